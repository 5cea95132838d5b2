"""Amazon Data Firehose: Direct PUT delivery streams to S3, an HTTP endpoint or OpenSearch.

The configuration (the CreateDeliveryStream parameters) is kept in the store's meta table so
a stream survives a restart; buffering, transformation and delivery are the engine's
(``flowlogs/firehose.py``). An OpenSearch destination is reached at its ``ClusterEndpoint``
(a local URL): a ``DomainARN`` names no server localvpc could post to.
"""

from __future__ import annotations

import time
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.delivery import FIREHOSE_META
from localvpc.api.protocols.request import ServiceError
from localvpc.api.registry import Provider
from localvpc.flowlogs.firehose import (
    MAX_RECORD_BYTES,
    FirehoseEngine,
    FirehoseError,
    S3Target,
    StreamSpec,
    check_prefix,
    has_expressions,
)

DESTINATION_ID = "destinationId-000000000001"
_SUPPORTED = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration",
              "HttpEndpointDestinationConfiguration",
              "AmazonopensearchserviceDestinationConfiguration")
_UNSUPPORTED = ("RedshiftDestinationConfiguration", "ElasticsearchDestinationConfiguration",
                "SplunkDestinationConfiguration",
                "AmazonOpenSearchServerlessDestinationConfiguration",
                "SnowflakeDestinationConfiguration", "IcebergDestinationConfiguration")


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", message, status=400)


def _meta_key(account: str, region: str, name: str) -> str:
    return f"{FIREHOSE_META}{account}/{region}/{name}"


def _bucket_of(arn: str) -> str:
    prefix = "arn:aws:s3:::"
    if not arn.startswith(prefix) or not arn[len(prefix):] or "/" in arn[len(prefix):]:
        raise _invalid(f"BucketARN {arn} is not a valid S3 bucket ARN.")
    return arn[len(prefix):]


def _lambda_arn(config: dict[str, Any]) -> str | None:
    processing = config.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return None
    for processor in processing.get("Processors") or []:
        if processor.get("Type") == "Lambda":
            for parameter in processor.get("Parameters") or []:
                if parameter.get("ParameterName") == "LambdaArn":
                    return str(parameter["ParameterValue"])
            raise _invalid("Processor of type Lambda must have a LambdaArn parameter.")
    return None


def _s3_target(config: dict[str, Any]) -> S3Target:
    return S3Target(_bucket_of(config["BucketARN"]), config.get("Prefix") or "",
                    config.get("ErrorOutputPrefix") or "",
                    config.get("CompressionFormat") or "UNCOMPRESSED",
                    config.get("FileExtension") or "")


def _destination(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    given = [k for k in (*_SUPPORTED, *_UNSUPPORTED) if params.get(k)]
    if len(given) != 1:
        raise _invalid("Exactly one destination configuration must be provided.")
    if given[0] in _UNSUPPORTED:
        raise _invalid(f"localvpc does not emulate {given[0].removesuffix('Configuration')}; "
                       "use S3, HTTP endpoint or OpenSearch (ClusterEndpoint).")
    return given[0], params[given[0]]


def spec_of(stored: dict[str, Any]) -> StreamSpec:
    """The engine's view of a stored stream (also used at startup, from the meta table)."""
    params = stored["params"]
    kind_key, config = _destination(params)
    hints = config.get("BufferingHints") or {}
    common = {"name": stored["name"], "arn": stored["arn"], "region": stored["region"],
              "account": stored["account"], "version": stored.get("version", 1),
              "size_mb": hints.get("SizeInMBs", 5), "interval_s": hints.get(
                  "IntervalInSeconds", 300), "lambda_arn": _lambda_arn(config)}
    if kind_key in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
        return StreamSpec(kind="s3", s3=_s3_target(config), **common)
    backup = _s3_target(config["S3Configuration"])
    if kind_key == "HttpEndpointDestinationConfiguration":
        endpoint = config["EndpointConfiguration"]
        return StreamSpec(kind="http", s3=backup, url=endpoint["Url"],
                          access_key=endpoint.get("AccessKey"),
                          backup_all=config.get("S3BackupMode") == "AllData", **common)
    return StreamSpec(kind="opensearch", s3=backup, url=config.get("ClusterEndpoint"),
                      index_name=config["IndexName"],
                      index_rotation=config.get("IndexRotationPeriod") or "OneDay",
                      backup_all=config.get("S3BackupMode") == "AllDocuments", **common)


def _check_config(kind_key: str, config: dict[str, Any]) -> None:
    s3 = config if kind_key.endswith("S3DestinationConfiguration") \
        else config["S3Configuration"]
    _bucket_of(s3["BucketARN"])
    prefix = s3.get("Prefix") or ""
    error_prefix = s3.get("ErrorOutputPrefix") or ""
    try:
        check_prefix(prefix, error=False)
        check_prefix(error_prefix, error=True)
    except FirehoseError as e:
        raise _invalid(e.message) from None
    if has_expressions(prefix):
        # Firehose's documented rule; the exact wording of its error is not documented.
        if not error_prefix:
            raise _invalid("ErrorOutputPrefix cannot be null or empty when Prefix contains "
                           "expressions.")
        if "!{firehose:error-output-type}" not in error_prefix:
            raise _invalid("ErrorOutputPrefix must contain !{firehose:error-output-type} when "
                           "Prefix contains expressions.")
    if kind_key == "AmazonopensearchserviceDestinationConfiguration" \
            and not config.get("ClusterEndpoint"):
        raise _invalid("localvpc needs the OpenSearch ClusterEndpoint (a URL it can post "
                       "_bulk requests to); a DomainARN alone names no local server.")
    _lambda_arn(config)


def _description(stored: dict[str, Any]) -> dict[str, Any]:
    kind_key, config = _destination(stored["params"])
    s3_defaults = {"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
                   "CompressionFormat": "UNCOMPRESSED",
                   "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"}}

    def s3_description(cfg: dict[str, Any]) -> dict[str, Any]:
        out = {**s3_defaults, **{k: v for k, v in cfg.items()
                                 if k not in ("S3BackupConfiguration",)}}
        out.setdefault("CloudWatchLoggingOptions", {"Enabled": False})
        return out

    destination: dict[str, Any] = {"DestinationId": DESTINATION_ID}
    if kind_key == "ExtendedS3DestinationConfiguration":
        ext = s3_description(config)
        ext.setdefault("S3BackupMode", "Disabled")
        destination["ExtendedS3DestinationDescription"] = ext
        plain = {k: ext[k] for k in ("RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix",
                                     "BufferingHints", "CompressionFormat",
                                     "EncryptionConfiguration", "CloudWatchLoggingOptions")
                 if k in ext}
        destination["S3DestinationDescription"] = plain
    elif kind_key == "S3DestinationConfiguration":
        destination["S3DestinationDescription"] = s3_description(config)
    else:
        body = {k: v for k, v in config.items() if k != "S3Configuration"}
        body["S3DestinationDescription"] = s3_description(config["S3Configuration"])
        if kind_key == "HttpEndpointDestinationConfiguration":
            endpoint = dict(config["EndpointConfiguration"])
            endpoint.pop("AccessKey", None)
            body["EndpointConfiguration"] = endpoint
            destination["HttpEndpointDestinationDescription"] = body
        else:
            body.pop("VpcConfiguration", None)
            body.setdefault("IndexRotationPeriod", "OneDay")
            destination["AmazonopensearchserviceDestinationDescription"] = body
    return {"DeliveryStreamName": stored["name"], "DeliveryStreamARN": stored["arn"],
            "DeliveryStreamStatus": "ACTIVE", "DeliveryStreamType": stored["type"],
            "VersionId": str(stored.get("version", 1)),
            "CreateTimestamp": stored["created"],
            "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
            "Destinations": [destination], "HasMoreDestinations": False}


class FirehoseProvider(Provider):
    service = "firehose"

    @staticmethod
    def _engine(ctx: RequestContext) -> FirehoseEngine:
        return ctx.state.delivery.firehose

    def _stored(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        stored = ctx.state.meta(_meta_key(ctx.account, ctx.region, name))
        if stored is None:
            raise ServiceError("ResourceNotFoundException", f"Firehose {name} under account "
                               f"{ctx.account} not found.", status=400)
        return dict(stored)

    def CreateDeliveryStream(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        name = params["DeliveryStreamName"]
        kind = params.get("DeliveryStreamType") or "DirectPut"
        if kind != "DirectPut":
            raise _invalid(f"localvpc emulates DirectPut delivery streams only, not {kind}.")
        kind_key, config = _destination(params)
        _check_config(kind_key, config)
        key = _meta_key(ctx.account, ctx.region, name)
        if ctx.state.meta(key) is not None:
            raise ServiceError("ResourceInUseException", f"Firehose {name} under accountId "
                               f"{ctx.account} already exists", status=400)
        arn = f"arn:aws:firehose:{ctx.region}:{ctx.account}:deliverystream/{name}"
        stored = {"name": name, "arn": arn, "account": ctx.account, "region": ctx.region,
                  "type": kind, "version": 1, "created": time.time(),
                  "params": {k: v for k, v in params.items() if k != "Tags"},
                  "tags": params.get("Tags") or []}
        spec = spec_of(stored)
        engine = self._engine(ctx)
        with ctx.state.write() as w:
            w.meta[key] = stored
        engine.add(spec)
        return {"DeliveryStreamARN": arn}

    def DescribeDeliveryStream(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        stored = self._stored(ctx, params["DeliveryStreamName"])
        return {"DeliveryStreamDescription": _description(stored)}

    def ListDeliveryStreams(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        prefix = f"{FIREHOSE_META}{ctx.account}/{ctx.region}/"
        stored = ctx.state.store.meta_items(prefix).values()
        kind = params.get("DeliveryStreamType")
        names = sorted(s["name"] for s in stored if kind is None or s["type"] == kind)
        start = params.get("ExclusiveStartDeliveryStreamName")
        if start:
            names = [n for n in names if n > start]
        limit = params.get("Limit") or 10
        return {"DeliveryStreamNames": names[:limit],
                "HasMoreDeliveryStreams": len(names) > limit}

    def DeleteDeliveryStream(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        name = params["DeliveryStreamName"]
        self._stored(ctx, name)
        with ctx.state.write() as w:
            w.meta[_meta_key(ctx.account, ctx.region, name)] = None
        self._engine(ctx).remove(ctx.account, ctx.region, name)
        return {}

    def _put(self, ctx: RequestContext, name: str, payloads: list[bytes]) -> list[str]:
        self._stored(ctx, name)
        for data in payloads:
            if len(data) > MAX_RECORD_BYTES:
                raise _invalid(f"Record size {len(data)} exceeds the limit of "
                               f"{MAX_RECORD_BYTES} bytes.")
        try:
            return self._engine(ctx).put(ctx.account, ctx.region, name, payloads)
        except FirehoseError as e:
            raise ServiceError(e.code, e.message, status=400) from None

    def PutRecord(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = self._put(ctx, params["DeliveryStreamName"], [params["Record"]["Data"]])
        return {"RecordId": ids[0], "Encrypted": False}

    def PutRecordBatch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        payloads = [r["Data"] for r in params["Records"]]
        if sum(len(p) for p in payloads) > 4 * 1024 * 1024:
            raise _invalid("The total size of the records in a PutRecordBatch request "
                           "exceeds 4 MiB.")
        ids = self._put(ctx, params["DeliveryStreamName"], payloads)
        return {"FailedPutCount": 0, "Encrypted": False,
                "RequestResponses": [{"RecordId": i} for i in ids]}
