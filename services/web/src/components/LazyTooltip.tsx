import { lazy, Suspense, type ReactElement } from "react";

// Mantine's Tooltip brings its positioning library (floating-ui, a fifth of the first load's
// script): the shell's hints arrive in a chunk of their own, the controls work without them.
const Tooltip = lazy(() => import("./lazy/Tooltip"));

/** A hint on hover and focus, once its chunk is there; until then the control alone. */
export function LazyTooltip({ label, children }: { label: string; children: ReactElement }) {
  return (
    <Suspense fallback={children}>
      <Tooltip label={label}>{children}</Tooltip>
    </Suspense>
  );
}
