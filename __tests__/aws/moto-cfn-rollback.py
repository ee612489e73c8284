"""moto_server whose CloudFormation fails a stack create the way AWS does.

Plain moto answers CreateStack with the error of the first resource that cannot be created and
leaves the stack CREATE_IN_PROGRESS. AWS instead records a CREATE_FAILED event for that resource,
rolls back and leaves the stack in ROLLBACK_COMPLETE. This plugin gives moto that behaviour so the
failure reporting and the ROLLBACK_COMPLETE clean-up can be tested end to end.

Usage: python3 moto-cfn-rollback.py -H 127.0.0.1 -p PORT   (the arguments of moto_server)
"""
import sys

from moto.cloudformation import models, parsing
from moto.server import main

create_resource = parsing.parse_and_create_resource
create_resources = models.Stack.create_resources


def parse_and_create_resource(logical_id, resource_json, *args, **kwargs):
    try:
        return create_resource(logical_id, resource_json, *args, **kwargs)
    except Exception as error:
        error.failed_resource = (logical_id, resource_json.get("Type", ""))
        raise


def create_resources_with_rollback(stack):
    try:
        create_resources(stack)
    except Exception as error:
        logical_id, resource_type = getattr(error, "failed_resource", (stack.name, "AWS::CloudFormation::Stack"))
        reason = getattr(error, "message", None) or str(error)
        stack.events.append(
            models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id="",
                resource_type=resource_type,
                resource_status="CREATE_FAILED",
                resource_status_reason=reason,
                resource_properties=None,
            )
        )
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS",
            resource_status_reason=f"The following resource(s) failed to create: [{logical_id}]. Rollback requested by user.",
        )
        try:
            stack.resource_map.delete()
        except Exception:
            pass
        # A rolled-back stack has no outputs (moto would otherwise try to resolve them again).
        stack.output_map = parsing.OutputMap(stack.resource_map, {**stack.template_dict, "Outputs": {}}, stack.stack_id)
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"


parsing.parse_and_create_resource = parse_and_create_resource
models.Stack.create_resources = create_resources_with_rollback

if __name__ == "__main__":
    main(sys.argv[1:])
