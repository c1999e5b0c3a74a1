"""The interface is Chinese unless the user picks English with the language switch (cookie).

Browsers on ward PCs often send an English Accept-Language (an English Windows image); SPEC
makes zh-hans the default, so the header is not consulted.
"""


class DefaultLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
