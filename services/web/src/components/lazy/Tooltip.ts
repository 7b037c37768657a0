// The target of a lazy import: a named import here lets the bundler take Mantine's Tooltip alone
// (an import() of "@mantine/core" itself would bring a chunk of every component the app uses).
export { Tooltip as default } from "@mantine/core";
