"""Auth's revocation broadcasts, applied the moment they arrive (issue 15.4).

Each gateway process subscribes to the bus's broadcasts with a queue of its own
(``Bus.subscriber``). An ``AccessRevoked`` ends sessions and users' earlier tokens in the
revocation feed's pushed news and drops the remembered answers for the API keys it names (and for
the keys of the users it names). Whenever the subscription is (re)made, broadcasts may have been
missed meanwhile, so the feed is fetched again at the next check.
"""

from __future__ import annotations

from chatlens.gateway.api_keys import ApiKeyVerifier
from chatlens.gateway.revocations import RevocationFeed
from chatlens.shared import queues
from chatlens.shared.handling import Routes
from chatlens.shared.schemas import AccessRevoked, ProviderSecretsChanged


def broadcast_routes(feed: RevocationFeed, api_keys: ApiKeyVerifier) -> Routes:
    """The gateway's handler of broadcasts: one route per broadcast type."""

    def access_revoked(message: AccessRevoked) -> None:
        feed.push(message.sessions, message.users)
        api_keys.forget(message.api_keys, list(message.users))

    def not_ours(message: ProviderSecretsChanged) -> None:
        """Every subscriber hears every broadcast; provider keys are the inference service's."""

    return Routes(
        queues.BROADCAST, {AccessRevoked: access_revoked, ProviderSecretsChanged: not_ours}
    )
