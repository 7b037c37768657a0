import { lazy, Suspense, useEffect, useState, type ReactElement } from "react";

// Mantine's Tooltip brings its positioning library (floating-ui, a fifth of the first load's
// script): the shell's hints arrive in a chunk of their own, the controls work without them.
const Tooltip = lazy(() => import("./lazy/Tooltip"));

// Nor do the hints take a share of the first render: the chunk is fetched, and the tooltips
// mounted, once the browser is idle (on a phone, after the page and its first results).
let idle: Promise<void> | null = null;
function whenIdle(): Promise<void> {
  idle ??= new Promise((resolve) => {
    if (typeof requestIdleCallback === "function") requestIdleCallback(() => resolve(), { timeout: 3_000 });
    else setTimeout(resolve, 0);
  });
  return idle;
}

/** A hint on hover and focus, once the browser is idle and its chunk is there; until then the control alone. */
export function LazyTooltip({ label, children }: { label: string; children: ReactElement }) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let mounted = true;
    void whenIdle().then(() => mounted && setReady(true));
    return () => {
      mounted = false;
    };
  }, []);
  if (!ready) return children;
  return (
    <Suspense fallback={children}>
      <Tooltip label={label}>{children}</Tooltip>
    </Suspense>
  );
}
