"""O3: the one restricted queryset every list, detail page, export and API goes through.

A model with department-scoped records declares ``scope_field`` (the path to its department) and
uses ``ScopedQuerySet.as_manager()``. ``visible_to(user)`` combines two checks:
the model permission of the user's roles, and the department scope of those roles.
"""

from __future__ import annotations

from django.db import models


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view"):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        opts = self.model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return self.none()
        field = getattr(self.model, "scope_field", None)
        if field is None:
            # Organisation-wide reference data: the permission alone decides.
            return self
        from careloop.accounts.roles import Scope

        scope = user.scope
        if scope == Scope.ALL:
            return self
        if scope == Scope.OWN:
            if "__" in field:
                # Across a to-many relation (a patient's visits): a subquery, so no duplicates.
                inner = self.model._base_manager.filter(
                    **{f"{field}__in": user.department_ids}
                ).values("pk")
                return self.filter(pk__in=inner)
            return self.filter(**{f"{field}__in": user.department_ids})
        return self.none()
