"""The signing key's age on /metrics (``chatlens_auth_signing_key_age_seconds``): how long the
active key has signed, so an alert can say a rotation is overdue; a rotation resets it."""

from __future__ import annotations

import os
import time

from prometheus_client.parser import text_string_to_metric_families

from chatlens.auth import keys

DAY = 24 * 3600


def _age(client) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    (value,) = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "chatlens_auth_signing_key_age_seconds"
    ]
    return value


def test_the_active_keys_age_is_exported_and_a_rotation_resets_it(make_app, tmp_path):
    path = tmp_path / "jwt-private.pem"
    client = make_app(jwt_private_key_path=path).test_client()
    assert 0 <= _age(client) < 60
    old = time.time() - 100 * DAY
    os.utime(path, (old, old))
    assert 100 * DAY <= _age(client) < 100 * DAY + 60
    keys.rotate(path)
    assert 0 <= _age(client) < 60
