"""moto_server whose CloudFormation knows Lambda aliases and version numbers, as AWS does.

Plain moto 5.2.1 cannot create `AWS::Lambda::Alias`, cannot resolve `Fn::GetAtt [<Version>, Version]`
(what a CDK `lambda.Alias` on `fn.currentVersion` compiles to), and a `Ref` to an
`AWS::Lambda::Version` yields no ARN. Its stack update also creates new resources before it updates
changed ones, so a new `AWS::Lambda::Version` would be published from the function's configuration
before the update and come back as the old version. This plugin gives moto:

- `AWS::Lambda::Alias`: create, update (in place; a new Name or FunctionName replaces the alias) and
  delete through moto's Lambda backend; `Ref` is the alias ARN, `Fn::GetAtt AliasArn` too.
- `AWS::Lambda::Version`: published with the resource's Description; `Fn::GetAtt Version` is the
  version number, `Ref` the version's ARN.
- `UsePreviousValue` for a parameter the stack was created with from its Default (the CDK CLI sends
  it for `BootstrapVersion` on every update): the previous value is that Default. moto remembers only
  the values passed in and fails the update with a KeyError.
- Stack updates in dependency order (Ref, Fn::GetAtt, Fn::Sub, DependsOn): what a resource refers
  to is created or updated before it; removed resources go last, `DeletionPolicy: Retain` ones are
  left in place. (moto itself never deletes a Lambda version.)

Usage: python3 moto-cfn-lambda-alias.py -H 127.0.0.1 -p PORT   (the arguments of moto_server)
"""
import re
import sys

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.cloudformation import models, parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.server import main


def lambda_backend(account_id, region_name):
    return lambda_backends[account_id][region_name]


def routing_config_of(properties):
    """CloudFormation lists weights as [{FunctionVersion, FunctionWeight}]; the Lambda API maps version → weight."""
    weights = (properties.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or []
    return {"AdditionalVersionWeights": {str(w["FunctionVersion"]): float(w["FunctionWeight"]) for w in weights}} if weights else {}


class LambdaAliasResource(CloudFormationModel):
    # moto files every model under the service its module names (moto.<service>.…).
    __module__ = "moto.awslambda.cfn_alias"

    def __init__(self, account_id, region_name, function_name, alias):
        self.account_id = account_id
        self.region_name = region_name
        self.function_name = function_name
        self.alias = alias

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-alias.html
        return "AWS::Lambda::Alias"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "AliasArn"

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "AliasArn":
            return self.alias.arn
        raise UnformattedGetAttTemplateException()

    @property
    def physical_resource_id(self):
        return self.alias.arn

    def is_created(self):
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = lambda_backend(account_id, region_name)
        function_name = backend.get_function(properties["FunctionName"]).function_name
        alias = backend.create_alias(
            name=properties["Name"],
            function_name=function_name,
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=routing_config_of(properties),
        )
        return cls(account_id, region_name, function_name, alias)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = cloudformation_json["Properties"]
        backend = lambda_backend(account_id, region_name)
        function_name = backend.get_function(properties["FunctionName"]).function_name
        if properties["Name"] != original_resource.alias.name or function_name != original_resource.function_name:
            # Name and FunctionName need replacement: the new alias first, then the old one goes.
            replacement = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return replacement
        backend.update_alias(
            name=properties["Name"],
            function_name=function_name,
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=routing_config_of(properties),
        )
        return original_resource

    def delete(self, account_id, region_name):
        try:
            lambda_backend(account_id, region_name).delete_alias(self.alias.name, self.function_name)
        except UnknownFunctionException:
            pass  # Deleting a function deletes its aliases.


def create_version(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    published = lambda_backend(account_id, region_name).publish_version(properties["FunctionName"], properties.get("Description", ""))
    version = cls({"Version": str(published.version)})
    version.version_arn = published.function_arn
    return version


def get_version_attribute(self, attribute_name):
    if attribute_name == "Version":
        return self.version
    raise UnformattedGetAttTemplateException()


LambdaVersion.create_from_cloudformation_json = classmethod(create_version)
LambdaVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "Version")
LambdaVersion.get_cfn_attribute = get_version_attribute
LambdaVersion.physical_resource_id = property(lambda self: self.version_arn)


def referenced_names(node):
    """Logical ids a template fragment refers to through Ref, Fn::GetAtt and Fn::Sub."""
    if isinstance(node, list):
        for item in node:
            yield from referenced_names(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                yield from (name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text))
                yield from referenced_names(variables)
            else:
                yield from referenced_names(value)


def dependency_order(resources):
    order = []
    visiting = set()

    def visit(name):
        if name in visiting or name in order:
            return
        visiting.add(name)
        depends_on = resources[name].get("DependsOn", [])
        for dependency in [*([depends_on] if isinstance(depends_on, str) else depends_on), *referenced_names(resources[name])]:
            if dependency in resources:
                visit(dependency)
        order.append(name)

    for name in resources:
        visit(name)
    return order


def update_in_dependency_order(self, template, parameters=None):
    actions = self.build_resource_diff(template, parameters)
    old_resources = self._resource_json_map
    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]

    for name in dependency_order(self._resource_json_map):
        if name in actions["Add"]:
            _ = self[name]  # the lazy map creates it
        elif name in actions["Modify"]:
            updated = parsing.parse_and_update_resource(name, self._resource_json_map[name], self, account_id=self._account_id, region_name=self._region_name)
            if updated is not None:
                self._parsed_resources[name] = updated

    for name in actions["Remove"]:
        resource = self._parsed_resources.pop(name, None)
        if resource is not None and old_resources[name].get("DeletionPolicy") != "Retain":
            self._delete_resource(resource, old_resources[name])


def resolve_update_parameters(self, instance, incoming_params):
    template = getattr(instance, "template_dict", None) or {}
    previous = {key: spec["Default"] for key, spec in (template.get("Parameters") or {}).items() if "Default" in spec}
    previous.update(instance.parameters)
    resolved = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
    resolved.update({p["ParameterKey"]: previous[p["ParameterKey"]] for p in incoming_params if p.get("UsePreviousValue", False)})
    return resolved


models.CloudFormationBackend._resolve_update_parameters = resolve_update_parameters
parsing.ResourceMap.update = update_in_dependency_order
# The model lists are cached on first use; make sure the alias model is in them.
for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()

if __name__ == "__main__":
    main(sys.argv[1:])
