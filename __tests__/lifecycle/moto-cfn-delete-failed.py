"""moto_server whose CloudFormation fails a stack delete the way AWS does.

Plain moto deletes a stack even when a resource cannot be deleted (it drops a non-empty S3 bucket
from the stack silently). AWS instead records DELETE_FAILED for that resource and leaves the stack in
DELETE_FAILED. This plugin gives moto that behaviour for non-empty buckets, so the reporting of a
failed destroy can be tested end to end.

Usage: python3 moto-cfn-delete-failed.py -H 127.0.0.1 -p PORT   (the arguments of moto_server)
"""
import sys

from moto.cloudformation import models
from moto.s3 import models as s3_models
from moto.server import main

delete_bucket = s3_models.FakeBucket.delete_from_cloudformation_json.__func__
delete_stack = models.CloudFormationBackend.delete_stack


class BucketNotEmpty(Exception):
    pass


def delete_bucket_like_aws(cls, resource_name, cloudformation_json, account_id, region_name):
    backend = s3_models.s3_backends[account_id]["aws"]
    if backend.get_bucket(resource_name).keys:
        raise BucketNotEmpty(f"The bucket you tried to delete is not empty (Service: S3, Status Code: 409, Bucket: {resource_name})")
    return delete_bucket(cls, resource_name, cloudformation_json, account_id, region_name)


def delete_stack_like_aws(stack):
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        stack.resource_map.delete()
    except BucketNotEmpty as error:
        json_map = stack.resource_map._resource_json_map
        remaining = [logical_id for logical_id in stack.resource_map._parsed_resources if logical_id in json_map]
        for logical_id in remaining:
            stack.events.append(
                models.Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=logical_id,
                    physical_resource_id="",
                    resource_type=json_map[logical_id]["Type"],
                    resource_status="DELETE_FAILED",
                    resource_status_reason=str(error),
                    resource_properties=None,
                )
            )
        reason = f"The following resource(s) failed to delete: [{', '.join(remaining)}]. "
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
        stack.status = "DELETE_FAILED"
        stack.status_reason = reason
        return
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"


def delete_stack_keeping_failed(backend, name_or_stack_id):
    """A stack whose delete failed stays listed under its name, as on AWS."""
    delete_stack(backend, name_or_stack_id)
    for stack_id, stack in list(backend.deleted_stacks.items()):
        if stack.status == "DELETE_FAILED":
            backend.stacks[stack_id] = backend.deleted_stacks.pop(stack_id)


s3_models.FakeBucket.delete_from_cloudformation_json = classmethod(delete_bucket_like_aws)
models.Stack.delete = delete_stack_like_aws
models.CloudFormationBackend.delete_stack = delete_stack_keeping_failed

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
