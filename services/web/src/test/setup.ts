import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());
// findBy… waits up to 1 s by default: too short for a page's first render on a loaded machine.
configure({ asyncUtilTimeout: 10_000 });

// jsdom lacks these; Mantine reads them.
window.matchMedia ??= ((query: string) => ({
  matches: false, media: query, onchange: null,
  addListener: () => {}, removeListener: () => {},
  addEventListener: () => {}, removeEventListener: () => {}, dispatchEvent: () => false,
})) as unknown as typeof window.matchMedia;
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;
// jsdom does not scroll; the virtualised list asks it to.
window.scrollTo = (() => {}) as typeof window.scrollTo;
// Nor Element.scrollIntoView (a message opened in its chat scrolls to itself).
Element.prototype.scrollIntoView ??= function scrollIntoView() {};
