"""The OpenAPI 3.1 description of every route, served at ``GET /openapi.json``.

Hand-written rather than generated: the routes' exact messages and the raw-path rules
are the contract. A test compares its paths and methods with the router's table.
"""

from __future__ import annotations

from typing import Any

from vylux_adapters.http.openapi_schemas import (
    HASH,
    JOB_STATUS,
    JOB_TYPE,
    JSON,
    any_case,
    schemas,
)
from vylux_core.images.options import MAX_DIMENSION
from vylux_core.jobs.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

_TIME: JSON = {"type": "string", "format": "date-time"}
_PAGE_SIZE: JSON = {
    "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE,
}  # fmt: skip

# The name the document gives each template's ``*`` (Echo leaves it unnamed).
REST_PARAMETERS = {
    "/img/:sig/:opts/*": "source",
    "/original/:sig/*": "key",
    "/thumb/:sig/*": "key",
    "/stream/:hash/*": "file_path",
}
IMGPROXY_REST_PARAMETER = "path"
"""The name of ``*`` in the imgproxy family's templates (under a configurable prefix)."""


def openapi_path(template: str) -> str:
    """``/img/:sig/:opts/*`` → ``/img/{sig}/{opts}/{source}``."""
    parts = []
    for part in template.split("/"):
        if part == "*":
            parts.append("{" + REST_PARAMETERS.get(template, IMGPROXY_REST_PARAMETER) + "}")
        elif part.startswith(":"):
            parts.append("{" + part[1:] + "}")
        else:
            parts.append(part)
    return "/".join(parts)


def _json(schema: str) -> JSON:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _error(description: str) -> JSON:
    return {"description": description, "content": _json("Error")}


def _plain(description: str, headers: JSON | None = None) -> JSON:
    response: JSON = {
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    if headers:
        response["headers"] = headers
    return response


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
_TOO_MANY = _plain("Rate limit exceeded (`Too Many Requests`).", _RETRY_AFTER)
_TOO_LARGE = _error("Request body too large.")


def _param(name: str, description: str, *, rest: bool = False, schema: JSON | None = None) -> JSON:
    if rest:
        description += " The rest of the path: may contain `/`, raw or as `%2F`; decoded once."
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_BINARY = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


def _header(description: str, pattern: str | None = None) -> JSON:
    schema: JSON = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"description": description, "required": True, "schema": schema}


def _delivery(
    summary: str, parameters: list[JSON], errors: JSON, *, name: str, headers: JSON | None = None
) -> JSON:
    success: JSON = {
        "description": "The object (a `Range` request gets 206). Cache-Control is immutable.",
        "content": _BINARY,
    }
    if headers:
        success["headers"] = headers
    responses = {"200": success, **errors}
    get = {
        "operationId": f"get{name}",
        "summary": summary,
        "parameters": parameters,
        "responses": responses,
    }
    return _get_and_head(name, get)


def _get_and_head(name: str, get: JSON) -> JSON:
    """The GET operation and its HEAD twin. Every HEAD answer, errors included, is the
    status and headers without a body."""
    head = {
        **get,
        "operationId": f"head{name}",
        "summary": get["summary"] + " (headers only)",
        "responses": {
            status: {key: value for key, value in answer.items() if key != "content"}
            for status, answer in get["responses"].items()
        },
    }
    return {"get": get, "head": head}


_RANGE_ANSWERS = {
    "206": {
        "description": "Partial content of a single byte range.",
        "headers": {
            "Content-Range": _header("`bytes first-last/size`", "^bytes [0-9]+-[0-9]+/[0-9]+$")
        },
        "content": _BINARY,
    },
    "416": {
        **_error("Range not satisfiable."),
        "headers": {"Content-Range": _header("`bytes */size`", "^bytes \\*/[0-9]+$")},
    },
}
_RANGE: JSON = {
    "name": "Range",
    "in": "header",
    "description": (
        "One byte range: `bytes=first-last`, `bytes=first-` or `bytes=-suffix`. Anything "
        "else (other units, several ranges, a malformed value, or any `If-Range`) is "
        "ignored: the whole object, 200."
    ),
    "schema": {"type": "string"},
    "examples": {
        "first-last": {"value": "bytes=0-3"},
        "first-": {"value": "bytes=2-"},
        "suffix": {"value": "bytes=-5"},
        "past-the-end": {"value": "bytes=999999-"},
    },
}
_ETAG = {"ETag": _header("Quoted hash of the rendition's bytes.")}


# Patterns, not prose only, so generated requests (schemathesis) get past the parsers.
# The app refuses every value outside a pattern; one inside may still be refused for
# what its description adds (number ranges, `..` segments).
_IMAGE_OPTIONS = "^[whq][+-]?[0-9]+(?:_[whq][+-]?[0-9]+)*$"
_IMAGE_SOURCE = r"^[\s\S]+\." + any_case("webp", "avif", "jpg", "jpeg", "png", "gif") + "$"
_STREAM_FILE = r"^[\s\S]+\." + any_case("m3u8", "m4s", "mp4", "jpg", "jpeg", "webp", "gif") + "$"
_SIG = _param(
    "sig",
    "HMAC-SHA256 signature, 64 lowercase hex characters.",
    schema={"type": "string", "pattern": "^[0-9a-f]{64}$"},
)
_API_KEY: list[JSON] = [{"apiKey": []}]
_API_ERRORS = {
    "401": _error("`missing API key` or `invalid API key`."),
    "408": _error("The request body did not arrive whole within `BODY_READ_TIMEOUT`."),
    "413": _TOO_LARGE,
}
_OUTAGE = {"503": _error("A dependency is down (database, queue or storage); retry later.")}


def _query(name: str, description: str, schema: JSON) -> JSON:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


_LIST_PARAMETERS = [
    _query("status", "Only jobs in this status.", JOB_STATUS),
    _query("type", "Only jobs of this type.", JOB_TYPE),
    _query("hash", "Only jobs of this media hash.", HASH),
    _query("created_after", "Only jobs created after this time (exclusive).", _TIME),
    _query("created_before", "Only jobs created before this time (exclusive).", _TIME),
    _query("limit", "Page size.", _PAGE_SIZE),
    _query("cursor", "`next_cursor` of the previous page (opaque).", {"type": "string"}),
]


# /original and /thumb: one signed object key, the same answers (one error family).
_SIGNED_OBJECT: tuple[list[JSON], JSON] = (
    [_SIG, _param("key", "Object key.", rest=True), _RANGE],
    {
        **_RANGE_ANSWERS,
        "400": _error("`missing signature or object key`, `invalid object key encoding: …`"),
        "403": _error("`invalid signature`"),
        "404": _error("`not found`"),
        "502": _error("`storage unavailable`"),
    },
)


def _paths() -> JSON:
    plain_ok = _plain("`OK`")
    return {
        "/healthz": {
            "get": {"operationId": "healthz", "summary": "Liveness", "responses": {"200": plain_ok}}
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness of every dependency",
                "responses": {"200": plain_ok, "503": _plain("`not ready: <names>`")},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus exposition",
                "responses": {"200": _plain("Metrics"), "404": _error("No metrics here.")},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
                },
            }
        },
        "/img/{sig}/{opts}/{source}": _delivery(
            "Signed image rendition",
            [
                _SIG,
                _param(
                    "opts",
                    "Options `w<n>`, `h<n>`, `q<n>` joined by `_` (not empty), read raw "
                    f"(not percent-decoded); w and h at most {MAX_DIMENSION}, q from 1 to 100.",
                    schema={"type": "string", "pattern": _IMAGE_OPTIONS},
                ),
                _param(
                    "source",
                    "Source key + `.` + output format (webp, avif, jpg or jpeg, png, gif; "
                    "any case).",
                    rest=True,
                    schema={"type": "string", "pattern": _IMAGE_SOURCE},
                ),
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "description": "ETags or `*`, compared weakly: a match is a 304.",
                    "schema": {"type": "string"},
                    "examples": {"any": {"value": "*"}},
                },
            ],
            {
                "304": {"description": "`If-None-Match` matched the ETag.", "headers": _ETAG},
                "400": _error(
                    "`bad options: …`, `unsupported output format`, `missing source path`, …"
                ),
                "403": _error("`invalid signature`"),
                "404": _error("`source image not found`"),
                "422": _error("The source is not a processable image."),
                "500": _error("`image processing failed`"),
                "502": _error("`source storage unavailable`"),
            },
            name="Image",
            headers=_ETAG,
        ),
        "/original/{sig}/{key}": _delivery(
            "Signed original from the source bucket",
            *_SIGNED_OBJECT,
            name="Original",
        ),
        "/thumb/{sig}/{key}": _delivery(
            "Signed object from the media bucket",
            *_SIGNED_OBJECT,
            name="Thumb",
        ),
        "/stream/{hash}/{file_path}": _delivery(
            "HLS playlists, segments, covers and previews",
            [
                _param("hash", "Media hash.", schema=HASH),
                _param(
                    "file_path",
                    "File inside the hash's video tree: no empty, `.` or `..` segment.",
                    rest=True,
                    schema={"type": "string", "pattern": _STREAM_FILE},
                ),
                _RANGE,
            ],
            {
                **_RANGE_ANSWERS,
                "400": _error(
                    "`missing hash or file path`, `invalid path`, `unsupported file type`"
                ),
                "404": _error("`not found`"),
                "502": _error("`storage unavailable`"),
            },
            name="Stream",
        ),
        "/api/key/{hash}": {
            "get": {
                "operationId": "getContentKey",
                "summary": "AES-128 content key of an encrypted stream",
                "security": [{"keyToken": []}],
                "parameters": [_param("hash", "Media hash.")],
                "responses": {
                    "200": {
                        "description": "16 raw bytes, `Cache-Control: no-store`.",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "401": _plain("`Unauthorized`: no bearer token."),
                    "403": _plain("`Forbidden`: bad, expired or foreign token."),
                    "404": _plain("`Not Found`"),
                    "429": _TOO_MANY,
                    "500": _plain("`Internal Server Error`"),
                    "503": _plain("`Service Unavailable`"),
                },
            }
        },
        "/api/key/{hash}/clearkey": {
            "post": {
                "operationId": "getClearKeyLicense",
                "summary": "W3C Clear Key licence (EME) for an encrypted stream",
                "description": (
                    "The body is the licence request a Clear Key CDM emits; the answer is a "
                    "JSON Web Key Set the CDM takes as its licence. Same bearer token and rate "
                    "limits as `GET /api/key/{hash}`."
                ),
                "security": [{"keyToken": []}],
                "parameters": [_param("hash", "Media hash.")],
                "requestBody": {"required": True, "content": _json("ClearKeyRequest")},
                "responses": {
                    "200": {
                        "description": "The hash's key, `Cache-Control: no-store`.",
                        "content": _json("ClearKeyLicense"),
                    },
                    "400": _plain(
                        "`invalid license request: …` or `invalid JSON body: …`: the body is "
                        "not a licence request."
                    ),
                    "401": _plain("`Unauthorized`: no bearer token."),
                    "403": _plain("`Forbidden`: bad, expired or foreign token."),
                    "404": _plain(
                        "`Not Found`: no key for this hash, or none of `kids` is its key id."
                    ),
                    "413": _plain("`Request Entity Too Large`"),
                    "429": _TOO_MANY,
                    "500": _plain("`Internal Server Error`"),
                    "503": _plain("`Service Unavailable`"),
                },
            }
        },
        "/api/jobs": {
            "post": {
                "operationId": "createJob",
                "summary": "Submit a job (idempotent per request fingerprint)",
                "security": _API_KEY,
                "requestBody": {"required": True, "content": _json("JobRequest")},
                "responses": {
                    "200": {
                        "description": "An active or completed identical job.",
                        "content": _json("Submission"),
                    },
                    "202": {"description": "A new job.", "content": _json("Submission")},
                    "400": _error(
                        "Invalid body or options, unsafe `callback_url`, `source object not found`."
                    ),
                    **_API_ERRORS,
                    "429": _TOO_MANY,
                    **_OUTAGE,
                },
            },
            "get": {
                "operationId": "listJobs",
                "summary": "List jobs, newest first, filtered and paginated by cursor",
                "security": _API_KEY,
                "parameters": _LIST_PARAMETERS,
                "responses": {
                    "200": {"description": "One page of jobs.", "content": _json("JobPage")},
                    "400": _error(
                        "A bad filter, `limit` or `cursor`; the message names the parameter."
                    ),
                    **_API_ERRORS,
                    **_OUTAGE,
                },
            },
        },
        "/api/jobs/{id}": {
            "get": {
                "operationId": "getJob",
                "summary": "Job status and results",
                "security": _API_KEY,
                "parameters": [_param("id", "Job id.")],
                "responses": {
                    "200": {"description": "The job.", "content": _json("Job")},
                    **_API_ERRORS,
                    "404": _error("`job not found`"),
                    **_OUTAGE,
                },
            }
        },
        "/api/jobs/{id}/retry": {
            "post": {
                "operationId": "retryJob",
                "summary": "Retry a failed job per its retry plan",
                "security": _API_KEY,
                "parameters": [_param("id", "Id of the failed job.")],
                "responses": {
                    "202": {"description": "The retry jobs.", "content": _json("RetrySubmission")},
                    "400": _error("`source object not found`"),
                    **_API_ERRORS,
                    "404": _error("`job not found`"),
                    "409": _error("`only failed jobs can be retried`, `job has no retry plan`, …"),
                    "429": _TOO_MANY,
                    **_OUTAGE,
                },
            }
        },
        "/api/jobs/{id}/cancel": {
            "post": {
                "operationId": "cancelJob",
                "summary": "Cancel a queued or processing job (idempotent)",
                "description": (
                    "The job becomes `canceled`: its queued task is removed, or its running "
                    "attempt is stopped (tools killed, partial outputs removed) within a "
                    "heartbeat; the callback gets one final webhook with status `canceled`. "
                    "Canceling a canceled job answers 200 with it."
                ),
                "security": _API_KEY,
                "parameters": [_param("id", "Job id.")],
                "responses": {
                    "200": {"description": "The canceled job.", "content": _json("Job")},
                    **_API_ERRORS,
                    "404": _error("`job not found`"),
                    "409": _error("`job already finished`: it completed or failed."),
                    **_OUTAGE,
                },
            }
        },
        "/api/media/{hash}": {
            "delete": {
                "operationId": "purgeMedia",
                "summary": "Delete every job, object, cached rendition and key of a hash",
                "security": _API_KEY,
                "parameters": [_param("hash", "Media hash.", schema=HASH)],
                "responses": {
                    "204": {"description": "Gone (also when nothing existed)."},
                    "400": _error("Invalid hash."),
                    **_API_ERRORS,
                    **_OUTAGE,
                },
            }
        },
    }


_IMGPROXY_SIG = _param(
    "sig",
    "imgproxy's signature: URL-safe base64 without padding of HMAC-SHA256(`IMGPROXY_KEY`, "
    "`IMGPROXY_SALT` + the signed path), optionally truncated (`IMGPROXY_SIGNATURE_SIZE`); "
    "`insecure` or `_` only with `IMGPROXY_ALLOW_INSECURE=true`. Checked before anything "
    "else: a wrong one is 403 whatever follows.",
    schema={"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
)
_IMGPROXY_SOURCE = (
    "`plain/{source}` (percent-decoded once; a plain key, `local:///key` or "
    "`s3://{SOURCE_S3_BUCKET}/key`) or the URL-safe base64 of the source without padding, "
    "which may be split over several `/`-separated segments."
)
_IMGPROXY_IMAGES = ("jpeg", "png", "webp", "avif", "gif", "tiff")
_IMGPROXY_FAILURES = {
    "400": _error(
        "`bad options: …` naming the option (an unknown or malformed option, an unsupported "
        "format such as `jxl`, a rendition over the result budget), or a refused source "
        "(another scheme or bucket, `missing source path`, `invalid base64 source URL`)."
    ),
    "403": _error("`invalid signature`"),
    "404": _error("`source image not found`, or `expired URL` past `expires`."),
    "413": _error("A request body over `MAX_BODY_BYTES` (none is expected)."),
    "422": _error("The source is not a processable image or exceeds the source limits."),
    "500": _error("`image processing failed`"),
    "502": _error("`source storage unavailable`"),
    "503": {
        **_error("Too many source bytes in flight; retry after `Retry-After` seconds."),
        "headers": _RETRY_AFTER,
    },
}
_IF_NONE_MATCH: JSON = {
    "name": "If-None-Match",
    "in": "header",
    "description": "ETags or `*`, compared weakly: a match is a 304.",
    "schema": {"type": "string"},
    "examples": {"any": {"value": "*"}},
}


def _imgproxy_operations(summary: str, name: str, description: str, success: JSON) -> JSON:
    responses = {
        "200": success,
        "304": {"description": "`If-None-Match` matched the ETag.", "headers": _ETAG},
        **_IMGPROXY_FAILURES,
    }
    get = {
        "operationId": f"get{name}",
        "summary": summary,
        "description": description,
        "parameters": [
            _IMGPROXY_SIG,
            _param(IMGPROXY_REST_PARAMETER, "The signed path (see the description).", rest=True),
            _IF_NONE_MATCH,
        ],
        "responses": responses,
    }
    return _get_and_head(name, get)


def _imgproxy_paths(prefix: str) -> JSON:
    """imgproxy's URL dialect (docs/images.md) under ``IMGPROXY_PATH_PREFIX``."""
    info_success = {
        "description": "The source's facts and placeholders. Cache-Control is immutable.",
        "headers": _ETAG,
        "content": _json("ImgproxyInfo"),
    }
    info_options = (
        " Options: only `expires` (`exp`) and `cachebuster` (`cb`); any other is a 400. "
        "Answers are cached like renditions and purged with `DELETE /api/media/{hash}`."
    )
    image = {
        "description": (
            "The rendition. Cache-Control is immutable; `Vary: Accept` when the format was "
            "negotiated from `Accept` (no extension and no `format` option)."
        ),
        "headers": {
            **_ETAG,
            "Content-Disposition": _header(
                "`inline` (or `attachment` with `return_attachment`) with the source's base "
                "name or `filename`, and the output's extension."
            ),
            "Vary": {
                "description": "`Accept`, when the format was negotiated.",
                "required": False,
                "schema": {"type": "string", "const": "Accept"},
            },
        },
        "content": {
            f"image/{subtype}": {"schema": {"type": "string", "format": "binary"}}
            for subtype in _IMGPROXY_IMAGES
        },
    }
    return {
        f"{prefix}/info/{{sig}}/{{{IMGPROXY_REST_PARAMETER}}}": _imgproxy_operations(
            "Source info, imgproxy Pro's URL shape",
            "ImgproxyInfoPro",
            "`{path}` is `[{option}/…]` followed by the source: " + _IMGPROXY_SOURCE
            + " The signature covers `/{path}` (what follows it), as imgproxy's client "
            "libraries build info URLs." + info_options,
            info_success,
        ),
        f"{prefix}/{{sig}}/info/{{{IMGPROXY_REST_PARAMETER}}}": _imgproxy_operations(
            "Source info",
            "ImgproxyInfo",
            "`{path}` is `[{option}/…]` followed by the source: " + _IMGPROXY_SOURCE
            + " The signature covers `/info/{path}`." + info_options,
            info_success,
        ),
        f"{prefix}/{{sig}}/{{{IMGPROXY_REST_PARAMETER}}}": _imgproxy_operations(
            "Rendition in imgproxy's URL dialect",
            "ImgproxyImage",
            "`{path}` is `{option}/{option}/…/` (each `name:arg:arg…`, full or short "
            "names, presets; the grammar and every option are in docs/images.md) followed "
            "by the source: " + _IMGPROXY_SOURCE + " An extension (`@png` after a plain "
            "source, `.png` after a base64 one; jpg, jpeg, png, webp, avif, gif, tiff, tif) "
            "or the `format` option fixes the output; without either the format is "
            "negotiated from `Accept`. The signature covers `/{path}`.",
            image,
        ),
    }  # fmt: skip


def openapi_document(imgproxy_prefix: str | None = None) -> dict[str, Any]:
    """A fresh copy of the document (callers may not mutate a shared one), with the
    imgproxy route family under ``imgproxy_prefix`` when it is served."""
    paths = _paths()
    if imgproxy_prefix is not None:
        paths.update(_imgproxy_paths(imgproxy_prefix))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vylux",
            "version": "1",
            "description": (
                "Signed image transforms, object delivery, HLS playback and media jobs. "
                "Path parameters are taken from the raw path and object keys are "
                "percent-decoded exactly once. Unknown paths answer 404, known paths "
                "405 with `Allow` for other methods and 204 with `Allow` for OPTIONS."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "keyToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "b64url(payload) + '.' + b64url(HMAC-SHA256(KEY_TOKEN_SECRET, payload))"
                    ),
                },
            },
        },
    }
