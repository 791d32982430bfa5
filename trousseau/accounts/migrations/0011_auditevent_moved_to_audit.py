# AuditEvent now belongs to the `audit` app (trousseau/audit/models.py): removed from this app's state
# only; its table, accounts_auditevent, and its rows stay where they are (audit 0001 adopts them).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0010_account_pending_email'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AuditEvent')],
            database_operations=[],
        ),
    ]
