"""Every room gets its Recordings folder (new rooms get it on creation, see apps.py)."""

from django.db import migrations


def forwards(apps, schema_editor) -> None:
    Room = apps.get_model("meetings", "Room")
    Folder = apps.get_model("media_library", "Folder")
    have = set(Folder.objects.filter(kind="recordings").values_list("room_id", flat=True))
    for room_id in Room.objects.exclude(pk__in=have).values_list("pk", flat=True):
        # A plain top-level folder already called "Recordings" is adopted, as publishing does.
        adopted = Folder.objects.filter(room_id=room_id, parent__isnull=True, name="Recordings").update(kind="recordings")
        if not adopted:
            Folder.objects.create(room_id=room_id, name="Recordings", kind="recordings")


class Migration(migrations.Migration):
    dependencies = [
        ("media_library", "0002_initial"),
        ("meetings", "0002_clock_offsets"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
