import type { Db } from '../../prisma/client';
import { hashPassword, verifyPassword } from './passwords';

/**
 * Makes sure ADMIN_EMAIL is an admin whose password is ADMIN_PASSWORD. If
 * someone registered that email first, the account is promoted and its
 * password reset, so a squatter cannot keep admin access.
 */
export async function ensureAdmin(db: Db, email: string, password: string): Promise<'created' | 'updated' | 'unchanged'> {
  const normalized = email.trim().toLowerCase();
  const existing = await db.user.findUnique({ where: { email: normalized } });
  if (!existing) {
    await db.user.create({ data: { email: normalized, passwordHash: await hashPassword(password), role: 'ADMIN' } });
    return 'created';
  }
  const samePassword = await verifyPassword(existing.passwordHash, password);
  if (existing.role === 'ADMIN' && samePassword) return 'unchanged';
  await db.user.update({
    where: { id: existing.id },
    data: { role: 'ADMIN', ...(samePassword ? {} : { passwordHash: await hashPassword(password) }) },
  });
  return 'updated';
}
