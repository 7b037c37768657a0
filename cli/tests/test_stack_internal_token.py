"""The local stack gives auth, the gateway and the inference service one internal token (auth's
/internal/* secret: the inference service reads an org's provider keys with it), kept in the
stack's state so a restarted service gets the same one."""

from __future__ import annotations

import stat

from chatlens.cli.stack import Stack, StackConfig


def test_auth_gateway_and_inference_share_one_kept_internal_token(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERNAL_TOKEN", raising=False)
    stack = Stack(StackConfig(root=tmp_path, state=tmp_path / "state", nginx=False))

    tokens = {
        name: stack.env(name).get("INTERNAL_TOKEN")
        for name in ("auth", "gateway", "inference", "index")
    }

    assert tokens["auth"] == tokens["gateway"] == tokens["inference"]
    assert len(tokens["auth"]) == 64 and tokens["index"] is None
    path = tmp_path / "state" / "internal-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Stack(StackConfig(root=tmp_path, state=tmp_path / "state", nginx=False))
    assert again.env("auth")["INTERNAL_TOKEN"] == tokens["auth"]


def test_an_internal_token_in_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERNAL_TOKEN", "given")
    stack = Stack(StackConfig(root=tmp_path, state=tmp_path / "state", nginx=False))

    assert stack.env("inference")["INTERNAL_TOKEN"] == "given"
