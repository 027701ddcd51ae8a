import { hash, verify } from '@node-rs/argon2';

// argon2id (the library default) with its default cost: 19 MiB, 2 passes,
// 1 lane, which is OWASP's minimum recommendation for argon2id.
export const hashPassword = (password: string): Promise<string> => hash(password);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never lets anyone in
  }
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real check, so login does not reveal which emails exist. */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummy ??= hashPassword('not-a-real-password');
  await verifyPassword(await dummy, password);
  return false;
}
