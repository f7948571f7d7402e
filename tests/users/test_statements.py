"""users.statements: several writes as one statement (PostgreSQL) or one transaction, with the
rows exactly as the ORM writes them. Runs on both set-ups of .ci/run."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests import factories
from users import statements
from users.models import AuditEvent, Tag

pytestmark = pytest.mark.django_db


def test_parts_are_written_with_orm_defaults_and_returned_values():
    tenant = factories.tenant()
    kept = factories.tag(tenant, name="kept")
    tag = Tag(tenant=tenant, name="new")  # colour from the model default
    event = AuditEvent(
        tenant=tenant,
        actor_label="test",
        action="tag.created",
        object_id=statements.returned(0, "id"),
        details={"nested": [1, "two"]},
    )
    with CaptureQueriesContext(connection) as captured:
        results = statements.write_together(
            [
                statements.insert([tag], returning="id"),
                statements.update(Tag.objects.filter(pk=kept.pk), color="#000000"),
                statements.insert([event]),
            ]
        )
    stored = Tag.objects.get(name="new")
    assert results == [stored.pk, None, None]
    assert stored.color == "#3b6ea5"
    assert Tag.objects.get(pk=kept.pk).color == "#000000"
    written = AuditEvent.objects.get(action="tag.created")
    assert written.object_id == str(stored.pk) and written.details == {"nested": [1, "two"]}
    assert written.created_at is not None  # auto_now_add, as save() sets it
    if connection.vendor == "postgresql":
        # One statement (the test's own transaction adds a savepoint around it).
        sent = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(sent) == 1 and sent[0].startswith("WITH ")


def test_a_failing_part_writes_nothing_and_leaves_the_callers_transaction_usable():
    tenant = factories.tenant()
    factories.tag(tenant, name="taken")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            statements.write_together(
                [
                    statements.update(Tag.objects.filter(tenant=tenant), color="#111111"),
                    statements.insert([Tag(tenant=tenant, name="TAKEN")]),
                ]
            )
        assert Tag.objects.filter(tenant=tenant).count() == 1  # still usable
    assert Tag.objects.get(tenant=tenant).color != "#111111"


def test_insert_writes_what_the_orm_writes_and_builds_its_sql_once():
    tenant = factories.tenant()
    rows = [
        AuditEvent(tenant=tenant, actor_label="a", action="x.one", details={"k": [1]}),
        AuditEvent(tenant=tenant, actor_label="b", action="x.two", details={}),
    ]
    first = statements.insert(rows, returning="id")
    second = statements.insert(rows, returning="id")
    assert first.sql == second.sql and "%s" in first.sql and first.returns
    statements.write_together([first])
    assert {e.action: e.details for e in AuditEvent.objects.filter(tenant=tenant)} == {
        "x.one": {"k": [1]},
        "x.two": {},
    }
    assert all(e.created_at for e in AuditEvent.objects.filter(tenant=tenant))


def test_create_sets_the_primary_key_and_state_as_save_does():
    tenant = factories.tenant()
    event = statements.create(AuditEvent(tenant=tenant, actor_label="t", action="x.created"))
    assert event.pk is not None and not event._state.adding and event._state.db == "default"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.tenant_id, stored.created_at) == (
        "x.created",
        tenant.pk,
        event.created_at,
    )


def test_update_row_updates_one_row_as_update_does_and_takes_expressions():
    tenant = factories.tenant()
    tag, other = factories.tag(tenant, name="one"), factories.tag(tenant, name="two")
    part = statements.update_row(Tag, tag.pk, color="#123456", name="uno")
    assert part == statements.update_row(Tag, tag.pk, color="#123456", name="uno")
    statements.write_together([part])
    assert Tag.objects.values_list("name", "color").get(pk=tag.pk) == ("uno", "#123456")
    assert Tag.objects.get(pk=other.pk).name == "two"
    from django.db.models.functions import Upper

    statements.write_together([statements.update_row(Tag, other.pk, name=Upper("name"))])
    assert Tag.objects.get(pk=other.pk).name == "TWO"
