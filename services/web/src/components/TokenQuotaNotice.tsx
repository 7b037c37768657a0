import { Alert } from "@mantine/core";
import { useQuotas } from "../api/queries";
import { formatDuration } from "../lib/format";
import { quotaLow } from "../lib/quotas";
import { usePermissions } from "../services";

/** Beside Ask: a warning when under a tenth of the org's daily token quota is left (for those
 * who may read the quotas; the others learn it from the refusal's message). */
export function TokenQuotaNotice() {
  const quotas = useQuotas(usePermissions().has("collections:write"));
  const tokens = quotas.data?.tokens;
  if (!tokens || !quotaLow(tokens)) return null;
  return (
    <Alert color="yellow" role="status" data-testid="token-quota-notice">
      Your organisation has {tokens.remaining.toLocaleString()} of its {tokens.limit.toLocaleString()} generated
      tokens a day left{tokens.resets_in_s != null ? `, for ${formatDuration(tokens.resets_in_s)}` : ""}: answers stop
      when they run out.
    </Alert>
  );
}
