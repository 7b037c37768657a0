import { useComputedColorScheme, useMantineTheme } from "@mantine/core";

/** Colours for SVG charts (attributes cannot read CSS variables): series, axes, grid. */
export function useChartTheme() {
  const theme = useMantineTheme();
  const dark = useComputedColorScheme("light") === "dark";
  const shade = dark ? 4 : 7;
  const series = ["blue", "orange", "teal", "grape", "red", "lime", "indigo", "yellow", "cyan", "pink"]
    .map((name) => theme.colors[name][shade]);
  return {
    series,
    primary: series[0],
    // Axis labels at AA contrast on the card's background in either scheme.
    text: dark ? theme.colors.dark[0] : theme.colors.gray[7],
    grid: dark ? theme.colors.dark[4] : theme.colors.gray[3],
    tooltip: { backgroundColor: dark ? theme.colors.dark[7] : theme.white, color: dark ? theme.colors.dark[0] : theme.black },
    background: dark ? theme.colors.dark[6] : theme.white,
    dark,
  };
}
