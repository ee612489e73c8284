export const id = 752;
export const ids = [752,99];
export const modules = {

/***/ 26752:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runBuiltin: () => (/* binding */ runBuiltin)
});

// EXTERNAL MODULE: ./src/smoke/connect.ts
var connect = __webpack_require__(75099);
// EXTERNAL MODULE: ./src/smoke/report.ts
var report = __webpack_require__(22711);
// EXTERNAL MODULE: ./node_modules/@modelcontextprotocol/sdk/dist/esm/types.js + 1 modules
var types = __webpack_require__(330);
// EXTERNAL MODULE: ./src/retry.ts
var retry = __webpack_require__(49809);
// EXTERNAL MODULE: external "node:util"
var external_node_util_ = __webpack_require__(57975);
;// CONCATENATED MODULE: ./src/smoke/assertions.ts

/**
 * Looks a dotted path up in a response, as mcp-tester does: `result`, `parsed.sum`, `tools[0].name`.
 * `undefined` means the path does not exist.
 */
function valueAtPath(value, path) {
    let current = value;
    for (const part of path.split('.')) {
        const indexed = /^([^[]*)\[(\d+)\]$/.exec(part);
        const field = indexed ? indexed[1] : part;
        if (field !== '')
            current = typeof current === 'object' && current !== null ? current[field] : undefined;
        if (indexed)
            current = Array.isArray(current) ? current[Number(indexed[2])] : undefined;
        if (current === undefined)
            return undefined;
    }
    return current;
}
const MAX_SHOWN_CHARS = 200;
/** A value as the error message shows it: JSON, shortened. */
function show(value) {
    if (value === undefined)
        return 'nothing (path not found)';
    const text = JSON.stringify(value);
    return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}… (${text.length} characters)` : text;
}
function compare(actual, comparison) {
    switch (comparison.op) {
        case 'equals':
            return actual === comparison.value;
        case 'not_equals':
            return actual !== comparison.value;
        case 'greater_than':
            return actual > comparison.value;
        case 'greater_than_or_equal':
            return actual >= comparison.value;
        case 'less_than':
            return actual < comparison.value;
        case 'less_than_or_equal':
            return actual <= comparison.value;
        case 'between':
            return actual >= comparison.min && actual <= comparison.max;
    }
}
function describeComparison(comparison) {
    return comparison.op === 'between'
        ? `between ${comparison.min} and ${comparison.max}`
        : `${comparison.op.replace(/_/g, ' ')} ${comparison.value}`;
}
function equalsIgnoringCase(actual, expected, ignoreCase) {
    if (ignoreCase && typeof actual === 'string' && typeof expected === 'string')
        return actual.toLowerCase() === expected.toLowerCase();
    return (0,external_node_util_.isDeepStrictEqual)(actual, expected);
}
function contains(actual, expected, ignoreCase) {
    const fold = (text) => (ignoreCase ? text.toLowerCase() : text);
    if (typeof actual === 'string')
        return fold(actual).includes(fold(expected));
    if (Array.isArray(actual))
        return actual.some(item => typeof item === 'string' && fold(item) === fold(expected));
    return false;
}
function hasError(response) {
    const error = valueAtPath(response, 'error');
    return error !== undefined && error !== null;
}
/** Checks one assertion against a step's response: undefined when it holds, else what differs. */
function checkAssertion(assertion, response) {
    switch (assertion.type) {
        case 'success':
            return hasError(response) ? `expected success, got error ${show(valueAtPath(response, 'error'))}` : undefined;
        case 'failure':
            return hasError(response) ? undefined : 'expected an error, got success';
        case 'equals': {
            const actual = valueAtPath(response, assertion.path);
            return equalsIgnoringCase(actual, assertion.value, assertion.ignoreCase)
                ? undefined
                : `${assertion.path}: expected ${show(assertion.value)}, got ${show(actual)}`;
        }
        case 'contains': {
            const actual = valueAtPath(response, assertion.path);
            return contains(actual, assertion.value, assertion.ignoreCase)
                ? undefined
                : `${assertion.path}: expected it to contain ${show(assertion.value)}, got ${show(actual)}`;
        }
        case 'matches': {
            const actual = valueAtPath(response, assertion.path);
            let pattern;
            try {
                pattern = new RegExp(assertion.pattern);
            }
            catch {
                return `${assertion.path}: invalid regular expression /${assertion.pattern}/`;
            }
            return typeof actual === 'string' && pattern.test(actual)
                ? undefined
                : `${assertion.path}: expected it to match /${assertion.pattern}/, got ${show(actual)}`;
        }
        case 'exists': {
            const actual = valueAtPath(response, assertion.path);
            return actual !== undefined && actual !== null ? undefined : `${assertion.path}: expected it to exist, got ${show(actual)}`;
        }
        case 'not_exists': {
            const actual = valueAtPath(response, assertion.path);
            return actual === undefined || actual === null ? undefined : `${assertion.path}: expected it not to exist, got ${show(actual)}`;
        }
        case 'array_length': {
            const actual = valueAtPath(response, assertion.path);
            if (!Array.isArray(actual))
                return `${assertion.path}: expected an array, got ${show(actual)}`;
            return compare(actual.length, assertion.comparison)
                ? undefined
                : `${assertion.path}: expected length ${describeComparison(assertion.comparison)}, got length ${actual.length}`;
        }
        case 'numeric': {
            const actual = valueAtPath(response, assertion.path);
            return typeof actual === 'number' && compare(actual, assertion.comparison)
                ? undefined
                : `${assertion.path}: expected a number ${describeComparison(assertion.comparison)}, got ${show(actual)}`;
        }
        case 'jsonpath': {
            // Like mcp-tester: the expression is read as a plain path.
            const actual = valueAtPath(response, assertion.expression);
            if (assertion.expected === undefined)
                return actual !== undefined ? undefined : `${assertion.expression}: expected it to exist, got ${show(actual)}`;
            return (0,external_node_util_.isDeepStrictEqual)(actual, assertion.expected)
                ? undefined
                : `${assertion.expression}: expected ${show(assertion.expected)}, got ${show(actual)}`;
        }
    }
}
/** Replaces `${name}` (or `${name.path}` into a stored result) in every string of a value. */
function substituteVariables(value, variables) {
    if (typeof value === 'string') {
        return value.replace(/\$\{([^}]+)\}/g, (whole, name) => {
            const [head, ...rest] = name.split('.');
            const found = name in variables ? variables[name] : rest.length > 0 ? valueAtPath(variables[head], rest.join('.')) : undefined;
            if (found === undefined)
                return whole;
            return typeof found === 'string' ? found : JSON.stringify(found);
        });
    }
    if (Array.isArray(value))
        return value.map(item => substituteVariables(item, variables));
    if (typeof value === 'object' && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteVariables(item, variables)]));
    }
    return value;
}

;// CONCATENATED MODULE: ./src/smoke/scenario-runner.ts





const MAX_DETAILS_CHARS = 1000;
/** Text content of a tool result, joined, as mcp-tester reads it. */
function textOf(content) {
    if (!Array.isArray(content))
        return '';
    return content
        .filter((item) => {
        const part = item;
        return part?.type === 'text' && typeof part.text === 'string';
    })
        .map(item => item.text)
        .join('\n');
}
function parseJson(text) {
    try {
        return JSON.parse(text);
    }
    catch {
        return null;
    }
}
/**
 * The response shapes of mcp-tester's scenario executor, so that one scenario file asserts the same
 * paths with either engine: a tool call gives `{success, result (text), parsed (text as JSON), error}`.
 */
async function callTool(client, tool, args, timeout) {
    try {
        const result = await client.callTool({ name: tool, arguments: args }, undefined, { timeout });
        const text = textOf(result.content);
        if (result.isError === true || text.startsWith('Error:'))
            return { success: false, result: text, parsed: null, error: text };
        return { success: true, result: text, parsed: parseJson(text), error: null };
    }
    catch (error) {
        if (isRequestTimeout(error))
            throw error;
        return { success: false, result: null, parsed: null, error: (0,connect/* describeFailure */.I)(error) };
    }
}
async function listing(key, request, pick) {
    try {
        return { success: true, ...pick(await request()), error: null };
    }
    catch (error) {
        if (isRequestTimeout(error))
            throw error;
        return { success: false, [key]: [], error: (0,connect/* describeFailure */.I)(error) };
    }
}
function isRequestTimeout(error) {
    return error instanceof types/* McpError */.Nh && error.code === Number(types/* ErrorCode */.O4.RequestTimeout);
}
async function perform(client, operation, variables, timeout, sleep) {
    switch (operation.type) {
        case 'tool_call':
            return callTool(client, operation.tool, operation.arguments, timeout);
        case 'list_tools':
            return listing('tools', () => client.listTools(undefined, { timeout }), r => ({ tools: r.tools }));
        case 'list_resources':
            return listing('resources', () => client.listResources(undefined, { timeout }), r => ({ resources: r.resources }));
        case 'list_prompts':
            return listing('prompts', () => client.listPrompts(undefined, { timeout }), r => ({ prompts: r.prompts }));
        case 'read_resource':
            return listing('contents', () => client.readResource({ uri: operation.uri }, { timeout }), r => ({ contents: r.contents }));
        case 'get_prompt':
            return listing('messages', () => client.getPrompt({ name: operation.name, arguments: operation.arguments }, { timeout }), r => ({ messages: r.messages, description: r.description ?? null }));
        case 'wait':
            await sleep(operation.seconds * 1000);
            return { waited: operation.seconds };
        case 'set_variable':
            variables[operation.name] = operation.value;
            return { variable_set: operation.name };
        case 'custom':
            throw new Error('custom operations are not run by the builtin engine');
    }
}
/** Where an error message says the step went: the tool for a tool call, else the operation. */
function subject(operation) {
    return operation.type === 'tool_call' ? `tool '${operation.tool}'` : operation.type;
}
function clip(text) {
    return text.length > MAX_DETAILS_CHARS ? `${text.slice(0, MAX_DETAILS_CHARS)}…` : text;
}
function stepResult(step, status, startedAt, error, details) {
    return { name: step.name, category: 'Tools', status, duration: (0,report/* elapsedSince */.lP)(startedAt), error, details };
}
async function runStep(client, step, variables, options) {
    const startedAt = performance.now();
    const operation = substituteVariables(step.operation, variables);
    if (operation.type === 'custom') {
        return stepResult(step, 'Skipped', startedAt, null, `custom request '${operation.method}' is not run by the builtin engine; use smoke-test: mcp-tester`);
    }
    const timeoutSeconds = step.timeoutSeconds ?? options.timeoutSeconds;
    let response;
    try {
        response = await perform(client, operation, variables, timeoutSeconds * 1000, options.sleep ?? retry/* sleep */.yy);
    }
    catch (error) {
        const reason = isRequestTimeout(error) ? `no answer within ${timeoutSeconds} s` : (0,connect/* describeFailure */.I)(error);
        return stepResult(step, 'Failed', startedAt, `${subject(operation)}: ${reason}`, null);
    }
    if (step.storeResult)
        variables[step.storeResult] = response;
    const differences = step.assertions
        .map(assertion => checkAssertion(assertion, response))
        .filter((difference) => difference !== undefined);
    const error = differences.length > 0 ? `${subject(operation)}: ${differences.join('; ')}` : null;
    return stepResult(step, error ? 'Failed' : 'Passed', startedAt, error, clip(JSON.stringify(response)));
}
function notRun(step, reason) {
    return { name: step.name, category: 'Tools', status: 'Skipped', duration: (0,report/* toDuration */.Ah)(0), error: null, details: reason };
}
/**
 * Runs setup, steps and cleanup in order, as mcp-tester does: a failed step stops the rest (reported
 * as Skipped) when `stop_on_failure` holds and the step does not `continue_on_failure`; cleanup
 * always runs.
 */
async function runScenario(client, scenario, options) {
    const variables = { ...scenario.variables };
    const results = [];
    let stoppedBy;
    for (const step of [...scenario.setup, ...scenario.steps]) {
        if (stoppedBy) {
            results.push(notRun(step, `not run: step '${stoppedBy}' failed and stop_on_failure is set`));
            continue;
        }
        const result = await runStep(client, step, variables, options);
        results.push(result);
        if (result.status === 'Failed' && scenario.stopOnFailure && !step.continueOnFailure)
            stoppedBy = step.name;
    }
    for (const step of scenario.cleanup)
        results.push(await runStep(client, step, variables, options));
    return results;
}

;// CONCATENATED MODULE: ./src/smoke/builtin.ts



const LISTED_NAMES_SHOWN = 10;
function initializeResult(client, connection) {
    const protocolVersion = client.transport?.protocolVersion ?? 'unknown';
    const server = client.getServerVersion();
    const retried = connection.attempts > 1 ? `; answered on attempt ${connection.attempts}` : '';
    return {
        name: 'Initialize',
        category: 'Core',
        status: 'Passed',
        duration: connection.duration,
        error: null,
        // mcp-tester's wording, so both engines read alike in the summary.
        details: `Server: ${server?.name ?? 'unnamed'} v${server?.version ?? '?'}, Protocol: ${protocolVersion}${retried}`
    };
}
const LIST_CHECKS = [
    {
        name: 'List tools',
        category: 'Tools',
        capability: 'tools',
        list: async (c, timeout) => (await c.listTools(undefined, { timeout })).tools,
        warnWhenEmpty: true
    },
    {
        name: 'List resources',
        category: 'Resources',
        capability: 'resources',
        list: async (c, timeout) => (await c.listResources(undefined, { timeout })).resources,
        warnWhenEmpty: false
    },
    {
        name: 'List prompts',
        category: 'Prompts',
        capability: 'prompts',
        list: async (c, timeout) => (await c.listPrompts(undefined, { timeout })).prompts,
        warnWhenEmpty: false
    }
];
function namesOf(items) {
    const shown = items
        .slice(0, LISTED_NAMES_SHOWN)
        .map(item => item.name)
        .join(', ');
    return items.length > LISTED_NAMES_SHOWN ? `${shown}, …` : shown;
}
async function runListCheck(client, check, timeoutSeconds) {
    const base = { name: check.name, category: check.category };
    if (!client.getServerCapabilities()?.[check.capability]) {
        return {
            ...base,
            status: 'Skipped',
            duration: (0,report/* toDuration */.Ah)(0),
            error: null,
            details: `the server does not advertise the ${check.capability} capability`
        };
    }
    const startedAt = performance.now();
    try {
        const items = await check.list(client, timeoutSeconds * 1000);
        if (items.length === 0) {
            return {
                ...base,
                status: check.warnWhenEmpty ? 'Warning' : 'Passed',
                duration: (0,report/* elapsedSince */.lP)(startedAt),
                error: null,
                details: `the server lists no ${check.capability}`
            };
        }
        return {
            ...base,
            status: 'Passed',
            duration: (0,report/* elapsedSince */.lP)(startedAt),
            error: null,
            details: `${items.length} listed: ${namesOf(items)}`
        };
    }
    catch (error) {
        return { ...base, status: 'Failed', duration: (0,report/* elapsedSince */.lP)(startedAt), error: (0,connect/* describeFailure */.I)(error), details: null };
    }
}
/**
 * The builtin engine: initialize (with the cold-start retry), list tools, resources and prompts,
 * then the scenario's steps; the same report shape as mcp-tester's.
 */
async function runBuiltin(options) {
    const connection = await (0,connect.connect)(options);
    if (!connection.ok)
        return (0,report/* reportOf */.EI)([(0,connect.failedInitialize)(options.url, connection)]);
    const { client } = connection;
    try {
        const tests = [initializeResult(client, connection)];
        for (const check of LIST_CHECKS)
            tests.push(await runListCheck(client, check, options.timeoutSeconds));
        if (options.scenario)
            tests.push(...(await runScenario(client, options.scenario, options)));
        return (0,report/* reportOf */.EI)(tests);
    }
    finally {
        await client.close();
    }
}


/***/ }),

/***/ 75099:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   I: () => (/* binding */ describeFailure),
/* harmony export */   connect: () => (/* binding */ connect),
/* harmony export */   failedInitialize: () => (/* binding */ failedInitialize)
/* harmony export */ });
/* unused harmony export connectionFailure */
/* harmony import */ var _modelcontextprotocol_sdk_client_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(30063);
/* harmony import */ var _modelcontextprotocol_sdk_client_streamableHttp_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(31502);
/* harmony import */ var _modelcontextprotocol_sdk_types_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(330);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(83916);
/* harmony import */ var _http_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(76803);
/* harmony import */ var _net_proxy_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(46246);
/* harmony import */ var _retry_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(49809);
/* harmony import */ var _report_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(22711);








const CLIENT_INFO = { name: 'pmcp-deploy-action', version: '1.0.0' };
const COLD_START_ATTEMPTS = 6;
const COLD_START_BASE_DELAY_MS = 1000;
const COLD_START_MAX_DELAY_MS = 8000;
/** The HTTP status of a failed Streamable HTTP request, when the server answered at all. */
function httpStatusOf(error) {
    return error instanceof _modelcontextprotocol_sdk_client_streamableHttp_js__WEBPACK_IMPORTED_MODULE_1__/* .StreamableHTTPError */ .b && error.code !== undefined && error.code > 0 ? error.code : undefined;
}
function isTimeout(error) {
    return error instanceof _modelcontextprotocol_sdk_types_js__WEBPACK_IMPORTED_MODULE_2__/* .McpError */ .Nh && (error.code === Number(_modelcontextprotocol_sdk_types_js__WEBPACK_IMPORTED_MODULE_2__/* .ErrorCode */ .O4.RequestTimeout) || error.code === Number(_modelcontextprotocol_sdk_types_js__WEBPACK_IMPORTED_MODULE_2__/* .ErrorCode */ .O4.ConnectionClosed));
}
/** No answer at all: connection refused or reset, DNS or TLS failure, or a request that timed out. */
function isUnreachable(error) {
    if (error instanceof _modelcontextprotocol_sdk_client_streamableHttp_js__WEBPACK_IMPORTED_MODULE_1__/* .StreamableHTTPError */ .b)
        return false;
    if (error instanceof _modelcontextprotocol_sdk_types_js__WEBPACK_IMPORTED_MODULE_2__/* .McpError */ .Nh)
        return isTimeout(error);
    return true;
}
/**
 * What a cold start looks like: no answer yet, or the gateway's 5xx/429 while the function starts,
 * or its 408 when the function took too long to take the request.
 */
function isColdStartError(error) {
    const status = httpStatusOf(error);
    if (status !== undefined)
        return status === _http_js__WEBPACK_IMPORTED_MODULE_4__/* .REQUEST_TIMEOUT */ ._h || (0,_http_js__WEBPACK_IMPORTED_MODULE_4__/* .isTransientStatus */ .Dm)(status);
    return isUnreachable(error);
}
/**
 * `fetch failed` alone says little; its cause (ECONNREFUSED, ENOTFOUND, …) says what happened.
 * Duck-typed: fetch's errors can come from another realm, where `instanceof Error` is false.
 */
function describeFailure(error) {
    const { message, cause } = (typeof error === 'object' && error !== null ? error : {});
    const text = typeof message === 'string' ? message : (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .errorMessage */ .gJ)(error);
    const status = httpStatusOf(error);
    if (status === 401 || status === 403) {
        return `HTTP ${status}: ${text} (the endpoint requires authentication: set or check the smoke-test-token input)`;
    }
    const detail = cause?.code ?? cause?.message;
    return detail && !text.includes(detail) ? `${text} (${detail})` : text;
}
function newClient(url, token) {
    const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
    return { client: new _modelcontextprotocol_sdk_client_index_js__WEBPACK_IMPORTED_MODULE_0__/* .Client */ .K(CLIENT_INFO), transport: new _modelcontextprotocol_sdk_client_streamableHttp_js__WEBPACK_IMPORTED_MODULE_1__/* .StreamableHTTPClientTransport */ .j(new URL(url), { requestInit }) };
}
/**
 * Connects and initializes, retrying what a cold start looks like with bounded backoff. An endpoint
 * that never answers, or answers with an error, is returned as a failed connection, for the caller
 * to report as a failed test (a new version nobody can reach is a failing version).
 */
async function connect(options) {
    const startedAt = performance.now();
    const timeoutMs = options.timeoutSeconds * 1000;
    let attempts = 0;
    try {
        const client = await (0,_retry_js__WEBPACK_IMPORTED_MODULE_6__/* .withRetry */ .bD)(async () => {
            attempts++;
            const { client, transport } = newClient(options.url, options.token);
            await client.connect(transport, { timeout: timeoutMs });
            return client;
        }, {
            label: `MCP initialize at ${options.url}`,
            attempts: COLD_START_ATTEMPTS,
            baseDelayMs: COLD_START_BASE_DELAY_MS,
            maxDelayMs: COLD_START_MAX_DELAY_MS,
            deadlineMs: timeoutMs / 2,
            isRetryable: isColdStartError,
            sleep: options.sleep
        });
        return { ok: true, client, attempts, duration: (0,_report_js__WEBPACK_IMPORTED_MODULE_7__/* .elapsedSince */ .lP)(startedAt) };
    }
    catch (error) {
        return { ok: false, error, unreachable: isUnreachable(error), attempts, duration: (0,_report_js__WEBPACK_IMPORTED_MODULE_7__/* .elapsedSince */ .lP)(startedAt) };
    }
}
/** What a failed connection says: for an unreachable endpoint, what to check. */
function connectionFailure(url, connection) {
    if (!connection.unreachable)
        return describeFailure(connection.error);
    return (`MCP endpoint unreachable: no answer from ${url} after ${connection.attempts} attempt(s): ${describeFailure(connection.error)}. ` +
        "Check the URL (the smoke-test-url input, else the stack's McpUrl output) and that the function deployed; " +
        `raise smoke-test-timeout if the server needs longer to start. ${(0,_net_proxy_js__WEBPACK_IMPORTED_MODULE_5__/* .describeRoute */ .fx)(url)}`);
}
/** The failed `Initialize` test of a connection that did not succeed (mcp-tester's name and category). */
function failedInitialize(url, connection) {
    return {
        name: 'Initialize',
        category: 'Core',
        status: 'Failed',
        duration: connection.duration,
        error: connectionFailure(url, connection),
        details: null
    };
}


/***/ })

};
