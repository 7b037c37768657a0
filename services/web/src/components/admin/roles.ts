export const ROLES = ["owner", "admin", "analyst", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner", admin: "Admin", analyst: "Analyst (uploads, changes)", viewer: "Viewer (reads, searches, asks)",
};

/**
 * The roles someone may hand out, as auth decides it (permissions.may_assign): whoever manages
 * members gives any role but owner, and only an owner makes, unmakes or removes an owner.
 */
export function assignable(actor: Role | undefined, canManage: boolean): Role[] {
  if (!canManage) return [];
  return actor === "owner" ? [...ROLES] : ROLES.filter((role) => role !== "owner");
}
