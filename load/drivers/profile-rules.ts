/**
 * What a target profile may say about a transport, as most transports have it: a `{topic}` URL, no
 * cursor unless the profile gives a query cursor taken from the message, several messages per
 * frame or answer allowed. A transport's descriptor states only where it differs.
 */
import type { ProfileRules } from './types.ts';

export function profileRules(rules: Pick<ProfileRules, 'reference'> & Partial<ProfileRules>): ProfileRules {
  return { placeholders: ['topic'], cursors: ['none', 'query'], cursorFromHeader: false, split: true, events: false, emptyAnswers: false, drain: 'never', ...rules };
}

/**
 * A poll's answers may be empty, and a query cursor may come from a header; ETag/Last-Modified also
 * resume; a poll on a schedule may drain.
 */
export function pollRules(rules: Pick<ProfileRules, 'reference'> & Partial<ProfileRules>): ProfileRules {
  return profileRules({ cursors: ['none', 'query', 'caching'], cursorFromHeader: true, emptyAnswers: true, drain: 'option', ...rules });
}
