// The target of a lazy import (see Tooltip.ts): the toasts' container and its transitions.
export { Notifications as default } from "@mantine/notifications";
