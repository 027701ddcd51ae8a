import type { InputHTMLAttributes } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from '../../api';

/**
 * The message the API gave for one field of a refused request: a
 * VALIDATION_FAILED's details.fields[].path, or a rule named in `codes` (e.g.
 * EMAIL_TAKEN for the email field).
 */
export function fieldError(error: unknown, path: string, codes: string[] = []): string | undefined {
  if (!(error instanceof ApiProblem)) return undefined;
  if (codes.includes(error.code)) return error.message;
  const fields = (error.details as { fields?: { path: string; message: string }[] } | undefined)?.fields;
  const hit = fields?.find((f) => f.path === path || f.path.endsWith(`.${path}`));
  return hit?.message;
}

/** A refusal that is shown at a field rather than on top of the form. */
export function isFieldProblem(error: unknown, codes: string[] = []): boolean {
  return error instanceof ApiProblem && (error.code === 'VALIDATION_FAILED' || codes.includes(error.code));
}

/**
 * A labelled input with its hint and its error read with it. `id` is
 * explicit: the same label may appear on several rows of one page.
 */
export function TextField({
  id,
  label,
  hint,
  error,
  ...input
}: { id: string; label: string; hint?: string; error?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} aria-describedby={described} aria-invalid={error ? true : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

/** A fresh key for one checkout attempt (Idempotency-Key). */
export const newKey = (): string =>
  typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/** A one-off confirmation that disappears after a while (announced politely). */
export function useNotice(): [string | undefined, (text: string | undefined) => void] {
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const show = (text: string | undefined) => {
    window.clearTimeout(timer.current);
    setNotice(text);
    if (text) timer.current = window.setTimeout(() => setNotice(undefined), 8000);
  };
  return [notice, show];
}

/** Money in minor units → the number a person types (12.50), and back. */
export const toMinor = (typed: string): number | undefined => {
  const n = Number(typed.replace(',', '.'));
  return typed.trim() === '' || !Number.isFinite(n) || n < 0 ? undefined : Math.round(n * 100);
};
