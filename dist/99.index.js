export const id = 99;
export const ids = [99];
export const modules = {

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
