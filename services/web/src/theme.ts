import { createTheme, localStorageColorSchemeManager, type CSSVariablesResolver } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  // Darker shades than the defaults, so text on the primary colour passes WCAG AA contrast.
  primaryShade: { light: 8, dark: 8 },
  // Modals and transitions stand still for people who ask their system for less motion.
  respectReducedMotion: true,
});

export const colorSchemeManager = localStorageColorSchemeManager({ key: "chatlens-theme" });

// Mantine's default "dimmed" grey and the text of light variants (alerts, light buttons, coloured
// text) are below WCAG AA (4.5:1) on a light background; the darkest shade passes.
const DARKER = ["red", "green", "blue", "teal", "orange", "gray", "yellow"].flatMap((color) => [
  [`--mantine-color-${color}-light-color`, `var(--mantine-color-${color}-9)`],
  [`--mantine-color-${color}-text`, `var(--mantine-color-${color}-9)`],
]);

// Even the darkest yellow and orange are below AA on their own light background (2.8:1 and 3.9:1,
// an alert's title, found by axe): a darker tone of each (5.9:1 and 6:1).
const DARKEST = { "--mantine-color-yellow-light-color": "#8a5300", "--mantine-color-orange-light-color": "#a33a0b" };

export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { "--mantine-color-dimmed": "var(--mantine-color-gray-7)", ...Object.fromEntries(DARKER), ...DARKEST },
  dark: { "--mantine-color-dimmed": "var(--mantine-color-dark-1)" },
});
