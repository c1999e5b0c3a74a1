from careloop.audit.context import Actor, acting_as


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(Actor(request=request)):
            return self.get_response(request)
