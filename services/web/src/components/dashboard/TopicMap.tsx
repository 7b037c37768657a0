import { Button, Group, Paper, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { unwrap } from "../../api/errors";
import { useApi } from "../../services";
import { useChartTheme } from "./chartTheme";

interface Point { message_id: string; topic: number; x: number; y: number }
interface Props {
  collectionId: string;
  version: number;
  points: Point[];
  labels: Map<number, string>;
  onOpen: (messageId: string) => void;
}

const WIDTH = 800;
const HEIGHT = 520;

/** The points' box with a margin, as the SVG's coordinates. */
export function bounds(points: Point[]) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 0.05 * Math.max(x1 - x0, y1 - y0, 1e-9);
  return { x: x0 - pad, y: y0 - pad, width: x1 - x0 + 2 * pad || 1, height: y1 - y0 + 2 * pad || 1 };
}

/**
 * The 2-D map of the messages: an SVG scatter, one colour per topic. The wheel or the buttons
 * zoom, dragging pans; hovering a point (or focusing it) shows its message, fetched when first
 * shown; a click opens it in its chat.
 */
export function TopicMap({ collectionId, version, points, labels, onOpen }: Props) {
  const chart = useChartTheme();
  const api = useApi();
  const box = bounds(points);
  const [view, setView] = useState({ scale: 1, dx: 0, dy: 0 });
  const [hovered, setHovered] = useState<Point | null>(null);
  const drag = useRef<{ x: number; y: number; dx: number; dy: number; moved: boolean } | null>(null);
  const message = useQuery({
    // Not MessageInContext's key: this one reads the message alone, without its neighbours.
    queryKey: ["map-message", collectionId, hovered?.message_id ?? null, version],
    enabled: hovered !== null,
    staleTime: Infinity,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/collections/{collection_id}/messages/{message_id}", {
      params: { path: { collection_id: collectionId, message_id: hovered!.message_id }, query: { context: 0, version: String(version) } },
      signal,
    })).message,
  });
  const sx = (x: number) => ((x - box.x) / box.width) * WIDTH;
  const sy = (y: number) => HEIGHT - ((y - box.y) / box.height) * HEIGHT;
  const zoom = (factor: number, cx = WIDTH / 2, cy = HEIGHT / 2) => setView((v) => {
    const scale = Math.min(40, Math.max(1, v.scale * factor));
    const k = scale / v.scale;
    return { scale, dx: cx - (cx - v.dx) * k, dy: cy - (cy - v.dy) * k };
  });
  const radius = Math.max(1.2, 3.5 / Math.sqrt(view.scale));
  return (
    <div>
      <Group gap="xs" mb="xs">
        <Button size="compact-xs" variant="default" onClick={() => zoom(1.5)}>Zoom in</Button>
        <Button size="compact-xs" variant="default" onClick={() => zoom(1 / 1.5)}>Zoom out</Button>
        <Button size="compact-xs" variant="default" onClick={() => setView({ scale: 1, dx: 0, dy: 0 })}>Reset view</Button>
        <Text size="xs" c="dimmed">{points.length} messages; wheel to zoom, drag to move, click a point to open it.</Text>
      </Group>
      <div style={{ position: "relative" }}>
        <svg data-testid="topic-map" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="group"
          aria-label="Map of the messages by topic" style={{ border: `1px solid ${chart.grid}`, touchAction: "none", cursor: "grab" }}
          onWheel={(e) => {
            const rect = e.currentTarget.getBoundingClientRect();
            zoom(e.deltaY < 0 ? 1.25 : 0.8, ((e.clientX - rect.left) / rect.width) * WIDTH, ((e.clientY - rect.top) / rect.height) * HEIGHT);
          }}
          onPointerDown={(e) => { drag.current = { x: e.clientX, y: e.clientY, dx: view.dx, dy: view.dy, moved: false }; }}
          onPointerMove={(e) => {
            const start = drag.current;
            if (!start) return;
            const rect = e.currentTarget.getBoundingClientRect();
            const mx = ((e.clientX - start.x) / rect.width) * WIDTH;
            const my = ((e.clientY - start.y) / rect.height) * HEIGHT;
            if (Math.abs(mx) + Math.abs(my) > 3) start.moved = true;
            if (start.moved) setView((v) => ({ ...v, dx: start.dx + mx, dy: start.dy + my }));
          }}
          onPointerUp={() => { setTimeout(() => { drag.current = null; }, 0); }}
          onPointerLeave={() => { drag.current = null; }}>
          <g transform={`translate(${view.dx} ${view.dy}) scale(${view.scale})`}>
            {points.map((p) => (
              <circle key={p.message_id} cx={sx(p.x)} cy={sy(p.y)} r={p === hovered ? radius * 2 : radius}
                fill={p.topic < 0 ? chart.grid : chart.series[p.topic % chart.series.length]}
                data-testid="map-point" tabIndex={-1} style={{ cursor: "pointer" }}
                onMouseEnter={() => setHovered(p)}
                onClick={() => { if (!drag.current?.moved) onOpen(p.message_id); }} />
            ))}
          </g>
        </svg>
        {hovered && (
          <Paper withBorder shadow="sm" p="xs" data-testid="map-hover" maw={360}
            style={{ position: "absolute", top: 8, right: 8, pointerEvents: "none" }}>
            <Text size="xs" c="dimmed">{labels.get(hovered.topic) ?? "Noise"}</Text>
            {message.data
              ? <Text size="sm" className="chat-text"><b>{message.data.sender ?? "(system)"}</b>: {message.data.text}</Text>
              : <Text size="sm" c="dimmed">{message.isError ? "The message could not be read." : "Reading the message…"}</Text>}
          </Paper>
        )}
      </div>
    </div>
  );
}
