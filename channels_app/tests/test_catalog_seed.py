"""`catalog_seed.seeded`: whether the table holds today's catalog, which the test suite's fixture relies on to seed
only after a transactional test emptied it."""

import pytest
from django.apps import apps

from channels_app.providers import catalog_seed
from channels_app.providers.catalog_models import AiModel


@pytest.mark.django_db
def test_the_migrated_catalog_is_seeded_and_seeding_again_changes_nothing():
    before = list(AiModel.objects.order_by("slug").values())
    assert catalog_seed.seeded(apps)
    catalog_seed.seed(apps)
    assert list(AiModel.objects.order_by("slug").values()) == before


@pytest.mark.django_db
def test_an_empty_a_partial_or_an_unretired_catalog_is_not_seeded_until_seeded_again():
    old = next(iter(catalog_seed.RETIRED))

    AiModel.objects.filter(slug=old).delete()
    assert not catalog_seed.seeded(apps)
    catalog_seed.seed(apps)
    assert catalog_seed.seeded(apps)

    AiModel.objects.filter(slug=old).update(status="active", replacement=None)
    assert not catalog_seed.seeded(apps)

    AiModel.objects.update(replacement=None)
    AiModel.objects.all().delete()
    assert not catalog_seed.seeded(apps)
    catalog_seed.seed(apps)
    assert catalog_seed.seeded(apps)
    assert AiModel.objects.get(slug=old).replacement.slug == catalog_seed.RETIRED[old]
