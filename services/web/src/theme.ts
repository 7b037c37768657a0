import { createTheme, localStorageColorSchemeManager } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  // Darker shades than the defaults, so text on the primary colour passes WCAG AA contrast.
  primaryShade: { light: 8, dark: 8 },
});

export const colorSchemeManager = localStorageColorSchemeManager({ key: "chatlens-theme" });
