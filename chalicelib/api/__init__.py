"""The JSON API's request side: authentication (`auth`), pure request validation (`validate`),
the errors routes raise (`errors`, mapped to RFC 9457 problem JSON by `errors.guarded`) and the
OpenAPI 3.1 document (`openapi`). Routes live in app.py; services come from chalicelib.bootstrap."""
