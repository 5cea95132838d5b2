"""botocore on the other side of the wire: build signed requests exactly as a client would,
and parse our responses exactly as a client would. Shared by the protocol tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from localvpc.api.protocols import HttpRequest, HttpResponse, load_service_model
from localvpc.api.protocols.shapes import protocol_of
from localvpc.api.protocols.specs import signing_name

ACCESS_KEY = "AKIDLOCALVPCTEST"


def endpoint(service: str, region: str) -> str:
    prefix = load_service_model(service).metadata["endpointPrefix"]
    return f"https://{prefix}.{region}.amazonaws.com"


def botocore_request(
    service: str,
    operation: str,
    params: dict[str, Any],
    *,
    region: str = "eu-west-1",
    sign: bool = True,
    client_validation: bool = True,
) -> HttpRequest:
    """The request botocore sends for ``operation(**params)``, as our ``HttpRequest``.
    ``client_validation=False`` lets invalid params through, to test the server's checks."""
    model = load_service_model(service)
    op = model.operation_model(operation)
    serializer = create_serializer(protocol_of(model), include_validation=client_validation)
    request_dict = serializer.serialize_to_request(params, op)
    request_dict["context"] = {}
    prepare_request_dict(request_dict, endpoint_url=endpoint(service, region))
    aws_request = create_request_object(request_dict)
    if sign:
        credentials = Credentials(ACCESS_KEY, "not-a-secret")
        SigV4Auth(credentials, signing_name(model), region).add_auth(aws_request)
    prepared = aws_request.prepare()
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    return HttpRequest.build(prepared.method, prepared.url, list(prepared.headers.items()), body)


def _wire(response: HttpResponse) -> dict[str, Any]:
    headers = HeadersDict()
    for name, value in response.headers.items():
        headers[name] = value
    return {"status_code": response.status, "headers": headers, "body": response.body}


def botocore_parse(service: str, operation: str, response: HttpResponse) -> dict[str, Any]:
    """What a botocore client returns for ``response`` (without ``ResponseMetadata``)."""
    model = load_service_model(service)
    op = model.operation_model(operation)
    parser = create_parser(protocol_of(model))
    parsed = dict(parser.parse(_wire(response), op.output_shape))
    parsed.pop("ResponseMetadata", None)
    return parsed


def botocore_parse_error(service: str, operation: str, response: HttpResponse) -> dict[str, Any]:
    """The ``Error`` dict and metadata a botocore client derives from an error response,
    plus the modeled error's fields under ``"Modeled"`` when the code is modeled."""
    model = load_service_model(service)
    op = model.operation_model(operation)
    parser = create_parser(protocol_of(model))
    parsed = dict(parser.parse(_wire(response), op.output_shape))
    code = parsed.get("Error", {}).get("Code")
    for shape in model.error_shapes:
        if code in (shape.name, shape.metadata.get("error", {}).get("code")):
            modeled = dict(parser.parse(_wire(response), shape))
            modeled.pop("ResponseMetadata", None)
            parsed["Modeled"] = modeled
            break
    return parsed


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]
