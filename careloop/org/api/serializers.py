from rest_framework import serializers

from careloop.org.models import Department, RosterEntry


class DepartmentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    campus = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Department
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "kind_display",
            "campus",
            "building",
            "phone_ext",
            "is_active",
        ]


class RosterEntrySerializer(serializers.ModelSerializer):
    shift = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    staff = serializers.SlugRelatedField(slug_field="username", read_only=True)
    staff_name = serializers.CharField(source="staff.display_name", read_only=True)

    class Meta:
        model = RosterEntry
        fields = ["id", "date", "shift", "staff", "staff_name", "department", "team", "note"]
