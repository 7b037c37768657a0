import { Alert } from "@mantine/core";
import { useEffect, useState } from "react";

/** The model is busy: how long until the app asks again by itself (a countdown to `until`, ms). */
export function BusyNotice({ until }: { until: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  return (
    <Alert color="yellow" role="status" title="The model is busy" data-testid="busy-notice">
      It is writing as many answers as it takes at once. Asking again by itself{" "}
      {left > 0 ? `in ${left} second${left === 1 ? "" : "s"}` : "now"}; what you asked is kept.
    </Alert>
  );
}
