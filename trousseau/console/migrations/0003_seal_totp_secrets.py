# Staff TOTP seeds were kept in clear: the column becomes sealed (core.sealing), and the seeds already
# there are sealed by saving them again (the field reads unsealed values as they are).

from django.db import migrations

import trousseau.core.sealing


def seal_existing(apps, schema_editor):
    StaffMember = apps.get_model("console", "StaffMember")
    for staff in StaffMember.objects.exclude(totp_secret="").only("pk", "totp_secret"):
        StaffMember.objects.filter(pk=staff.pk).update(totp_secret=staff.totp_secret)


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0002_import_job"),
    ]

    operations = [
        migrations.AlterField(
            model_name="staffmember",
            name="totp_secret",
            field=trousseau.core.sealing.SealedTextField(blank=True, purpose="console.staffmember.totp_secret"),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
