"""Create the role groups and the offices every installation has."""

from django.db import migrations

ROLES = ["chair", "cxo", "secretary", "bu_head", "bu_member", "quality_reviewer", "auditor"]
OFFICES = [
    ("CEO", "Chief Executive Officer", "other"),
    ("CISO", "Chief Information Security Officer", "security"),
    ("CQO", "Chief Quality Officer", "quality"),
    ("CFO", "Chief Financial Officer", "other"),
    ("CHRO", "Chief Human Resources Officer", "other"),
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Office = apps.get_model("accounts", "Office")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    for code, name, domain in OFFICES:
        Office.objects.get_or_create(code=code, defaults={"name": name, "domain": domain})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
