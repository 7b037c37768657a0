import { Kbd, Modal, Table } from "@mantine/core";

/** Every keyboard shortcut of the app; the Shell binds them and opens this list on "?". */
export const SHORTCUTS: [keys: string[], what: string][] = [
  [["/"], "Jump to the search box (on a collection's search page)"],
  [["?"], "Show this list"],
  [["Esc"], "Close a dialog or an opened message"],
  [["Enter"], "Ask the question typed (Shift + Enter: a new line)"],
  [["Tab"], "Move between controls; every action is reachable this way"],
];

export default function ShortcutsModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Keyboard shortcuts" closeButtonProps={{ "aria-label": "Close" }}>
      <Table data-testid="shortcuts">
        <Table.Tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <Table.Tr key={what}>
              <Table.Td>{keys.map((key) => <Kbd key={key}>{key}</Kbd>)}</Table.Td>
              <Table.Td>{what}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}
