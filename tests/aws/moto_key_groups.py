"""moto's server with the key-group calls that `edgepass keys register` and `retire` need and moto lacks.

moto 5.2.5 (tests/reference/requirements-moto.txt) creates and reads CloudFront key groups, but:
  * UpdateKeyGroup is not implemented (moto answers 500, "The update_key_group action has not been
    implemented");
  * GetKeyGroup of an unknown id answers 500 (a KeyError) instead of 404 NoSuchResource;
  * a key group's Comment is dropped.
This adds them as CloudFront documents them: UpdateKeyGroup replaces the whole configuration, requires in
If-Match the ETag of the version read (InvalidIfMatchVersion when missing, 412 PreconditionFailed when it
is not the current one) and gives the group a new ETag; unknown ids are NoSuchResource.

Run it like moto_server: `python moto_key_groups.py -H 127.0.0.1 -p PORT` (with moto's venv's python).
"""

import sys
import threading

from moto.cloudfront import exceptions, models, responses
from moto.core.responses import ActionResult
from moto.server import main


class NoSuchResource(exceptions.CloudFrontException):
    def __init__(self) -> None:
        super().__init__("NoSuchResource", "The specified key group does not exist.")


class PreconditionFailed(exceptions.CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "PreconditionFailed",
            "The precondition in one or more of the request fields evaluated to false.",
        )


def _key_group_config(group):
    config = {"Items": group.items, "Name": group.name}
    if getattr(group, "comment", None):
        config["Comment"] = group.comment
    return config


def _get_key_group(backend, group_id):
    if group_id not in backend.key_groups:
        raise NoSuchResource()
    return backend.key_groups[group_id]


# The server answers each request on its own thread; the ETag check and the write must be one step.
_UPDATES = threading.Lock()


def _update_key_group(backend, group_id, if_match, name, items, comment):
    with _UPDATES:
        group = _get_key_group(backend, group_id)
        if not if_match:
            raise exceptions.InvalidIfMatchVersion()
        if if_match != group.etag:
            raise PreconditionFailed()
        group.name, group.items, group.comment = name, items, comment
        group.etag = models.random_id(length=14)
        return group


def _create_key_group_response(self):
    group = self.backend.create_key_group(
        name=self._get_param("KeyGroupConfig.Name"),
        items=self._get_param("KeyGroupConfig.Items", []),
    )
    group.comment = self._get_param("KeyGroupConfig.Comment")
    return ActionResult({"KeyGroup": group, "Location": group.location, "ETag": group.etag})


def _update_key_group_response(self):
    group = self.backend.update_key_group(
        self._get_param("Id"),
        self._get_param("IfMatch"),
        self._get_param("KeyGroupConfig.Name"),
        self._get_param("KeyGroupConfig.Items", []),
        self._get_param("KeyGroupConfig.Comment"),
    )
    return ActionResult({"KeyGroup": group, "ETag": group.etag})


models.KeyGroup.key_group_config = property(_key_group_config)
models.CloudFrontBackend.get_key_group = lambda self, group_id: _get_key_group(self, group_id)
models.CloudFrontBackend.update_key_group = _update_key_group
responses.CloudFrontResponse.create_key_group = _create_key_group_response
responses.CloudFrontResponse.update_key_group = _update_key_group_response

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
