/**
 * Text from requesters (client names, subjects, links) reaches the operator's terminal in local mode; an escape sequence
 * in it could recolour, hide or rewrite what the operator reads. Every C0, DEL and C1 control character and the Unicode
 * line separators are shown as a visible `\uXXXX` escape instead, which is also valid inside a JSON string.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
