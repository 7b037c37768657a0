import "@mantine/core/styles.css";
import "@mantine/dropzone/styles.css";
import "@mantine/notifications/styles.css";
import "./app.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { createServices } from "./services";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App services={createServices()} />
  </StrictMode>,
);
