"""One work claim for every long step (finalize and publish), not only finalize."""

from django.db import migrations, models
from django.db.models.functions import Now


def name_the_due_step(apps, schema_editor):
    """Recordings processing at upgrade time: finalize is due, or publish if the MP4 was made."""
    Recording = apps.get_model("recordings", "Recording")
    processing = Recording.objects.filter(state="processing")
    processing.filter(output_path="").update(work_step="finalize")
    processing.exclude(output_path="").update(work_step="publish")
    processing.filter(work_due_at__isnull=True).update(work_due_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("recordings", "0004_processing_claim"),
    ]

    operations = [
        migrations.RenameField(model_name="recording", old_name="finalize_enqueued_at", new_name="work_due_at"),
        migrations.RenameField(model_name="recording", old_name="processing_heartbeat", new_name="work_heartbeat"),
        migrations.AlterField(
            model_name="recording",
            name="work_due_at",
            field=models.DateTimeField(
                blank=True, null=True, help_text="When the step was queued (or will be retried)."
            ),
        ),
        migrations.AlterField(
            model_name="recording",
            name="work_heartbeat",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="Refreshed by the worker running the step; a stale one is taken over.",
            ),
        ),
        migrations.AddField(
            model_name="recording",
            name="work_step",
            field=models.CharField(
                blank=True,
                choices=[("finalize", "Finalize (compose and assemble)"), ("publish", "Publish (store and list)")],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="recording",
            name="work_attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="Tries of the current step."),
        ),
        migrations.RunPython(name_the_due_step, migrations.RunPython.noop),
    ]
