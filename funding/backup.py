"""Backup and restore of the application's data: one file, restored all or nothing.

``backup_data --output FILE`` writes a gzip-compressed JSON object (``.json.gz``)::

    {"format": "municipal-funding-backup", "version": 1,
     "created_at": "2026-11-22T10:12:13.123456+00:00", "database": "postgresql",
     "migrations": {"admin": "0003_logentry_add_action_flag_choices", "auth": "0012_…",
                    "contenttypes": "0002_…", "funding": "0007_adopted_annex_file",
                    "programs": "0005_action_plans", …},
     "payload_sha256": "64 hex digits",
     "payload": [{"model": "funding.budgetline", "pk": 7,
                  "fields": {"strategy": 1, "year": 2025, "amount": "5047.00", …}}, …]}

``migrations`` names the latest applied migration of every app; ``payload`` lists every row in
Django's fixture shape, table by table in primary-key order; ``payload_sha256`` is the SHA-256 of
the payload's canonical JSON (UTF-8, keys sorted, no spaces). ``restore_data FILE`` accepts the
file gzip-compressed or not (``zcat`` it to read it).

Decisions:

- **What is in**: every row of every table except those below: the project's apps (funding and
  programs, with their change history, whose entries come back with the same ids, dates, users
  and change reasons), users with their password hashes, groups, memberships and permissions,
  and the admin's log. **What is not**: content types and permissions, which ``migrate``
  creates, with ids that differ from database to database, so the file names them by natural
  key (``["funding", "budgetline"]``, ``["change_budgetline", "funding", "budgetline"]``);
  sessions (the logins of the installation that was backed up; ``--replace`` deletes them,
  since the users they belong to are replaced); django-axes' access attempts and logs: a lockout
  is about the running installation (restoring last week's failed attempts would lock someone
  out, or lift a lockout, for no present reason), and they hold IP addresses and mistyped
  usernames, personal data kept no longer than their cool-off.
- **Values** as Django serialises them for fixtures, without losing precision: decimals as
  strings ("5047.00"), date-times in ISO 8601 with microseconds and offset (Django's JSON
  encoder would cut them to milliseconds, and history must come back exactly), binary fields in
  base64 (the adopted annex PDF, byte for byte). SQLite and PostgreSQL give the same payload for
  the same data, so a backup moves from one to the other.
- **Keys**: primary keys are kept, so every reference, history entry and log entry comes back as
  it was; foreign keys are primary keys, except to content types and permissions.
- **Migration state**: rows are read and written with the models of the database's migration
  state (the migration graph's project state), not the code's, so the database being restored
  into must be at exactly the backup's state. A backup made by an older release is restored into
  an empty database migrated back to that state (``manage.py migrate funding 0005_…``); a
  ``manage.py migrate`` afterwards brings its data forward as it would the old database's. A
  backup from a newer release (a migration this code does not have) is restored with that
  release. Migrating inside the restore is not offered: SQLite cannot change a schema inside the
  transaction that makes the restore all or nothing.
- **Checks before anything is written**: the file is a backup of this application in a format
  this code reads, complete (gzip's end marker and CRC) and unchanged (the checksum), made at the
  database's migration state, and the database holds no data unless ``--replace`` is given.
- **Restore** runs in one transaction. With ``--replace`` it first deletes the backed-up tables'
  rows (and the sessions) with SQL ``DELETE``: no model code runs, so frozen revisions do not
  refuse and no history entry records the deletion; ``DELETE`` rather than ``TRUNCATE``, which
  PostgreSQL refuses on a table with pending deferred constraint checks in the same transaction.
  Rows are inserted raw, as ``loaddata`` does: no ``save()`` override and no history entry for
  the insertion. Foreign keys are checked before the commit (both databases defer them, so rows
  load in any order), and PostgreSQL's sequences are then moved past the restored ids.
- **Size**: the whole file is held in memory; a municipality's data is a few megabytes. For a
  database of gigabytes, PostgreSQL's own ``pg_dump -Fc`` / ``pg_restore`` is the tool.
- The file holds password hashes and personal data: it is created readable by its owner only.
"""

import gzip
import hashlib
import json
import os
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = "municipal-funding-backup"
VERSION = 1
# Whole apps left out (see the module's docstring); contenttypes' rows are left out too, but its
# migration state is checked, since the natural keys depend on it.
EXCLUDED_APPS = {"contenttypes", "sessions", "axes"}
EXCLUDED_MODELS = {"auth.permission"}
# Apps whose migration state need not match the backup's: none of their rows is in it.
UNCHECKED_APPS = {"sessions", "axes"}
CONTENT_TYPE, PERMISSION = "contenttypes.contenttype", "auth.permission"


class BackupError(Exception):
    """Why a backup cannot be written or restored, in words for the operator."""


@dataclass(frozen=True)
class Backup:
    """A backup file read and checked: its migration state and its rows."""

    path: Path
    created_at: str
    migrations: dict[str, str]
    payload: list
    sha256: str

    def counts(self) -> dict[str, int]:
        """Rows per model, in the file's order."""
        return dict(Counter(entry["model"] for entry in self.payload))


@dataclass(frozen=True)
class BackupWritten:
    path: Path
    size: int
    sha256: str
    counts: dict[str, int]


@dataclass(frozen=True)
class Restored:
    counts: dict[str, int]
    deleted: int


def backup_create(*, path: Path, using: str = DEFAULT_DB_ALIAS) -> BackupWritten:
    """Write every row of the database's application data to a backup file at ``path``."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:
            # One snapshot for every table, while the application keeps writing.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        state = _MigrationState(connection)
        if state.unknown:
            raise BackupError(
                _(
                    "The database has migrations this release does not have (%(migrations)s); "
                    "back it up with the release that applied them."
                )
                % {"migrations": ", ".join(f"{app} {name}" for app, name in state.unknown)}
            )
        if not state.latest:
            raise BackupError(_("The database has no tables yet: run manage.py migrate first."))
        apps = state.apps()
        keys = _NaturalKeys(apps, using)
        payload = [row for model in _backed_up_models(apps) for row in _rows(model, keys, using)]
    digest = payload_sha256(payload)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "migrations": state.latest,
        "payload_sha256": digest,
        "payload": payload,
    }
    content = gzip.compress(
        json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )
    _write_atomically(path, content)
    return BackupWritten(path, len(content), digest, dict(Counter(e["model"] for e in payload)))


def backup_read(path: Path) -> Backup:
    """The backup in the file, once it is known to be a complete, unchanged backup."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise BackupError(
            _("Cannot read %(file)s: %(reason)s") % {"file": path, "reason": error.strerror}
        ) from None
    if content.startswith(b"\x1f\x8b"):
        try:
            content = gzip.decompress(content)
        except EOFError:
            raise BackupError(
                _("%(file)s is truncated: the compressed data ends before its end marker.")
                % {"file": path}
            ) from None
        except (OSError, zlib.error) as error:
            raise BackupError(
                _("%(file)s is damaged: %(reason)s.") % {"file": path, "reason": error}
            ) from None
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BackupError(
            _("%(file)s is not a backup of this application: it is not (gzip-compressed) JSON.")
            % {"file": path}
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(
            _("%(file)s is not a backup of this application (no “format”: “%(format)s”).")
            % {"file": path, "format": FORMAT}
        )
    if document.get("version") != VERSION:
        raise BackupError(
            _(
                "%(file)s is a backup in format version %(version)s; this release reads "
                "version %(supported)s. Restore it with the release that made it."
            )
            % {"file": path, "version": document.get("version"), "supported": VERSION}
        )
    missing = [
        key
        for key, kind in [
            ("created_at", str),
            ("migrations", dict),
            ("payload_sha256", str),
            ("payload", list),
        ]
        if not isinstance(document.get(key), kind)
    ]
    if missing:
        raise BackupError(
            _("%(file)s is damaged: %(keys)s missing or malformed.")
            % {"file": path, "keys": ", ".join(missing)}
        )
    found = payload_sha256(document["payload"])
    if found != document["payload_sha256"]:
        raise BackupError(
            _(
                "%(file)s is damaged: its data does not match its SHA-256 checksum "
                "(recorded %(recorded)s, found %(found)s)."
            )
            % {"file": path, "recorded": document["payload_sha256"], "found": found}
        )
    return Backup(
        path=path,
        created_at=document["created_at"],
        migrations=document["migrations"],
        payload=document["payload"],
        sha256=found,
    )


def backup_restore(*, backup: Backup, replace: bool, using: str = DEFAULT_DB_ALIAS) -> Restored:
    """Load the backup into the database, in one transaction; with ``replace``, in place of
    the data it holds. Nothing is written unless all of it is."""
    connection = connections[using]
    state = _MigrationState(connection)
    problem = state.mismatch(backup.migrations)
    if problem:
        raise BackupError(problem)
    apps = state.apps()
    backed_up = _backed_up_models(apps)
    throughs = [through for model in backed_up for _field, through in _m2m_throughs(model)]
    held = {
        model._meta.label_lower: count
        for model in backed_up
        if (count := model._base_manager.using(using).count())
    }
    if held and not replace:
        shown = [f"{label}: {count}" for label, count in list(held.items())[:4]]
        raise BackupError(
            _(
                "The database already holds data: %(rows)d rows in %(tables)d tables (%(some)s). "
                "Nothing was changed. Restore into an empty database, or give --replace to delete "
                "its data and restore the backup in its place."
            )
            % {
                "rows": sum(held.values()),
                "tables": len(held),
                "some": ", ".join(shown) + (", …" if len(held) > len(shown) else ""),
            }
        )
    with transaction.atomic(using=using):
        if held:
            _delete_rows(connection, [*throughs, *reversed(backed_up)])
            _delete_sessions(connection, apps)
        _insert_rows(backup, apps, _NaturalKeys(apps, using), using)
        try:
            connection.check_constraints(
                table_names=[model._meta.db_table for model in [*backed_up, *throughs]]
            )
        except DatabaseError as error:
            raise BackupError(
                _("The backup's rows do not fit together (%(error)s); nothing was changed.")
                % {"error": error}
            ) from None
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [*backed_up, *throughs]):
                cursor.execute(sql)
    return Restored(backup.counts(), sum(held.values()))


def payload_sha256(payload: list) -> str:
    """The SHA-256 of the payload's canonical JSON: UTF-8, keys sorted, no spaces."""
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _MigrationState:
    """The migrations applied to a database, and the models they have made."""

    def __init__(self, connection):
        self.loader = MigrationLoader(connection)
        graph = self.loader.graph
        applied = set(self.loader.applied_migrations)
        self.unknown = sorted(key for key in applied if key not in graph.nodes)
        self.latest = {}
        for key in sorted(applied - set(self.unknown)):
            later = [
                child.key
                for child in graph.node_map[key].children
                if child.key[0] == key[0] and child.key in applied
            ]
            if not later:
                self.latest[key[0]] = key[1]
        self.latest = dict(sorted(self.latest.items()))

    def apps(self):
        """The models as the applied migrations have made them (a StateApps registry)."""
        return self.loader.project_state(list(self.latest.items())).apps

    def mismatch(self, recorded: dict) -> str | None:
        """Why a backup at the ``recorded`` migration state cannot be restored here, or None."""
        apps = sorted((set(recorded) | set(self.latest)) - UNCHECKED_APPS)
        different = [app for app in apps if recorded.get(app) != self.latest.get(app)]
        if not different:
            return None
        lines = [
            _("The backup was made at another migration state than the database's:"),
            *(
                "  "
                + _("%(app)s: backup %(backup)s, database %(database)s")
                % {
                    "app": app,
                    "backup": recorded.get(app) or _("none"),
                    "database": self.latest.get(app) or _("none"),
                }
                for app in different
            ),
        ]
        unknown = [
            f"{app} {recorded[app]}"
            for app in different
            if recorded.get(app) and (app, recorded[app]) not in self.loader.graph.nodes
        ]
        if unknown:
            lines.append(
                _(
                    "This release does not have %(migrations)s: the backup was made by a newer "
                    "release; restore it with that release."
                )
                % {"migrations": ", ".join(unknown)}
            )
        else:
            lines.append(
                _(
                    "Migrate an empty database to the backup's state first, restore, then run "
                    "manage.py migrate to bring the data up to date:"
                )
            )
            lines += [
                f"  manage.py migrate {app} {recorded.get(app) or 'zero'}" for app in different
            ]
        lines.append(_("Nothing was changed."))
        return "\n".join(lines)


class _NaturalKeys:
    """Content types and permissions by natural key, both ways, read once from the database."""

    def __init__(self, apps, using):
        content_types = apps.get_model(CONTENT_TYPE)._base_manager.using(using)
        permissions = apps.get_model(PERMISSION)._base_manager.using(using)
        types = {
            pk: [app, model]
            for pk, app, model in content_types.values_list("pk", "app_label", "model")
        }
        self.keys = {
            CONTENT_TYPE: types,
            PERMISSION: {
                pk: [codename, *types[type_id]]
                for pk, codename, type_id in permissions.values_list(
                    "pk", "codename", "content_type_id"
                )
            },
        }
        self.pks = {
            label: {tuple(key): pk for pk, key in keys.items()} for label, keys in self.keys.items()
        }

    def key(self, label: str, pk) -> list:
        try:
            return self.keys[label][pk]
        except KeyError:
            raise BackupError(
                _("A row refers to %(model)s %(pk)s, which does not exist.")
                % {"model": label, "pk": pk}
            ) from None

    def reference(self, field, value):
        """The primary key a relation's value in the file stands for."""
        label = field.related_model._meta.label_lower
        if label not in self.pks:
            return field.target_field.to_python(value)
        try:
            return self.pks[label][tuple(value)]
        except (KeyError, TypeError):
            raise BackupError(
                _("The database has no %(model)s %(key)s; was it migrated?")
                % {"model": label, "key": value}
            ) from None


def _backed_up_models(apps) -> list[type[models.Model]]:
    """The models whose rows a backup holds, by label (the file's order)."""
    chosen = [
        model
        for model in apps.get_models()
        if model._meta.app_label not in EXCLUDED_APPS
        and model._meta.label_lower not in EXCLUDED_MODELS
        and model._meta.managed
        and not model._meta.proxy
    ]
    return sorted(chosen, key=lambda model: model._meta.label_lower)


def _m2m_throughs(model):
    """The model's many-to-many fields whose table Django made, with that table's model."""
    for field in model._meta.local_many_to_many:
        through = field.remote_field.through
        if through._meta.auto_created:
            yield field, through


def _plain(field, obj):
    """A field's value as JSON holds it: as it is when JSON has the type, else as text."""
    value = field.value_from_object(obj)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return field.value_to_string(obj)


def _m2m_values(model, field, through, keys, using) -> dict:
    """For every row of ``model``, the primary keys (or natural keys) it links to."""
    source = through._meta.get_field(field.m2m_field_name()).attname
    target = through._meta.get_field(field.m2m_reverse_field_name()).attname
    label = field.related_model._meta.label_lower
    linked = defaultdict(list)
    rows = through._base_manager.using(using).values_list(source, target).order_by(source, target)
    for owner, other in rows:
        linked[owner].append(keys.key(label, other) if label in keys.keys else other)
    return {owner: sorted(values) for owner, values in linked.items()}


def _rows(model, keys: _NaturalKeys, using):
    """Every row of the model as the file holds it, in primary-key order."""
    opts = model._meta
    # Own columns only, as Django serialises: a parent model (multi-table inheritance) has its
    # own rows in the file.
    fields = [field for field in opts.local_concrete_fields if not field.primary_key]
    m2m = {
        field.name: _m2m_values(model, field, through, keys, using)
        for field, through in _m2m_throughs(model)
    }
    for obj in model._base_manager.using(using).order_by("pk").iterator(chunk_size=2000):
        values = {}
        for field in fields:
            label = field.related_model._meta.label_lower if field.is_relation else None
            value = field.value_from_object(obj)
            if label in keys.keys and value is not None:
                values[field.name] = keys.key(label, value)
            else:
                values[field.name] = _plain(field, obj)
        for name, linked in m2m.items():
            values[name] = linked.get(obj.pk, [])
        yield {"model": opts.label_lower, "pk": _plain(opts.pk, obj), "fields": values}


def _instance(apps, entry, keys: _NaturalKeys):
    """A model instance for one entry of the file, and its many-to-many links."""
    model = apps.get_model(entry["model"])
    opts = model._meta
    data = {opts.pk.attname: opts.pk.to_python(entry["pk"])}
    links = {}
    for name, value in entry["fields"].items():
        field = opts.get_field(name)
        if field.many_to_many:
            links[field] = [keys.reference(field, item) for item in value]
        elif field.is_relation:
            data[field.attname] = None if value is None else keys.reference(field, value)
        else:
            data[field.attname] = field.to_python(value)
    return model(**data), links


def _insert_rows(backup: Backup, apps, keys: _NaturalKeys, using) -> None:
    links = defaultdict(list)
    for number, entry in enumerate(backup.payload, start=1):
        try:
            instance, fields = _instance(apps, entry, keys)
            # Raw, as loaddata saves: no save() override, no signal handler writing history.
            models.Model.save_base(instance, raw=True, force_insert=True, using=using)
            for field, targets in fields.items():
                through = field.remote_field.through
                source = through._meta.get_field(field.m2m_field_name()).attname
                target = through._meta.get_field(field.m2m_reverse_field_name()).attname
                links[through] += [through(**{source: instance.pk, target: t}) for t in targets]
        except Exception as error:
            raise BackupError(_row_problem(number, entry, error)) from None
    for through, rows in links.items():
        try:
            through._base_manager.using(using).bulk_create(rows, batch_size=500)
        except DatabaseError as error:
            raise BackupError(
                _("The links of %(table)s cannot be restored (%(error)s); nothing was changed.")
                % {"table": through._meta.db_table, "error": error}
            ) from None


def _row_problem(number: int, entry, error: Exception) -> str:
    described = entry if not isinstance(entry, dict) else f"{entry.get('model')} {entry.get('pk')}"
    reason = str(error).strip() or type(error).__name__
    return _(
        "Row %(number)d of the backup (%(row)s) cannot be restored: %(reason)s. Nothing was "
        "changed."
    ) % {"number": number, "row": described, "reason": reason}


def _delete_rows(connection, models_) -> None:
    """Delete every row of the models' tables in SQL, without model code or signals."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _delete_sessions(connection, apps) -> None:
    try:
        session = apps.get_model("sessions", "Session")
    except LookupError:
        return
    _delete_rows(connection, [session])


def _write_atomically(path: Path, content: bytes) -> None:
    """Write the whole file or nothing, readable by its owner only."""
    partial = path.with_name(f".{path.name}.part")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(
            _("Cannot write “%(path)s”: %(reason)s.")
            % {"path": path, "reason": error.strerror or error}
        ) from None
