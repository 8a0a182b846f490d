from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "channels_app.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The channel's secret key (`amgai_…`). Call the API from your backend, never from browser code.",
        }


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "channels_app.authentication.BearerKeyAuthentication"
    name = "BearerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The OpenAI-compatible API (/v1/): the channel's secret key (`amgai_…`) as the OpenAI SDKs' api_key.",
        }
