"""tribu.core.services.audit: recording events and describing them in the reader's language."""

from django.utils import translation

from tribu.core.services import audit


def test_workspace_update_names_the_fields_by_their_translated_labels(workspace, user):
    event = audit.record(
        workspace, "workspace.updated", actor=user, fields=["timezone", "audit_digest"]
    )
    with translation.override("fr"):
        sentence = audit.describe(event)
    assert sentence == (
        "alice@example.com a modifié les paramètres de l’espace de travail "
        "(fuseau horaire, récapitulatif d’audit pour les propriétaires)."
    )
    with translation.override("en"):
        assert "(time zone, audit digest to owners)" in audit.describe(event)


def test_an_unknown_field_falls_back_to_its_raw_name(workspace, user):
    event = audit.record(workspace, "workspace.updated", actor=user, fields=["colour", "name"])
    with translation.override("en"):
        assert "(colour, name)" in audit.describe(event)
