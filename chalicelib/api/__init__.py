"""The JSON API's request side: authentication (`auth`), pure request validation (`validate`),
the errors routes raise (`errors`, mapped to RFC 9457 problem JSON by `errors.guarded`) and the
OpenAPI 3.1 document (`openapi`, served at /openapi.json). Routes live in app.py (API section);
services come from chalicelib.bootstrap.

    route                                          key   DynamoDB calls per request (never Scan)
    GET  /healthz, /openapi.json                   -     0
    GET  /releases                                 -     <= 12 Query (queries.MAX_QUERIES; cursor resumes)
    GET  /releases/{release_id}                    -     1 Query (+1 by_series Query: its work's editions)
    GET  /sources                                  -     1 Query (paged)
    GET  /status                                   -     1 Query + 1 BatchGetItem per 100 targets
                                                         + 1 Query per shard + 1 Query per target
    GET  /status/{target}                          -     1 Query + 1 GetItem + 3 Query (ticks, hourly rollups, daily summaries)
    GET  /targets                                  yes   1 Query
    POST /targets, DELETE /targets/{name}          yes   1 PutItem / 2 DeleteItem + 1 UpdateItem (state forgotten)
    POST /subscriptions                            yes   1 PutItem
    GET  /subscriptions/{destination}              yes   1 Query (paged)
    DELETE /subscriptions/{destination}/{kind}/{match}  yes  1 DeleteItem (idempotent: 204)
    GET  /dlq, POST /dlq/{channel}/redrive         yes   0 (SQS only)
    GET|POST /ping/{token}[/{action}]              token 1 Query (runtime targets) + 1 GetItem + 1 UpdateItem

Errors: problem JSON with `param` naming the query/path parameter, body field or header at
fault (400, 401, 404, 409, 415, 503), `Cache-Control: no-store`. Reads: ETag (weak for /status,
whose `generated_at` changes every call) + `Cache-Control: public, max-age=30` (300 for the
OpenAPI document) and 304 on If-None-Match; answers behind the key are `private, no-store`.
API key: see `auth` (401 wrong/missing, 503 when the stage has none: fail closed).
Path parameters are percent-decoded once (`chalice local` passes them raw).
"""
