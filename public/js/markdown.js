// A message's text as a small Markdown subset (PROTOCOL.md keeps it plain text on the wire): bold,
// italic, strike, inline code, code blocks, quotes, lists, and links, with markdown-it
// (html: false, so markup in a text is shown as text). Links are http(s) or mailto only (others
// stay text), open in a new tab without the page's referrer or opener. What markdown-it makes is
// checked against an allowlist of elements and attributes before it reaches the page.

import markdownit from '../vendor/markdown-it.mjs';

// from nothing, the rules wanted: no headings, tables, images or indented code (four spaces in chat
// are not a code block), only ``` fences
const md = markdownit('zero', { html: false, linkify: true, breaks: true }).enable([
  'linkify',
  'fence',
  'blockquote',
  'list',
  'emphasis',
  'strikethrough',
  'backticks',
  'link',
  'autolink',
  'newline',
  'escape',
  'entity',
]);
md.linkify.set({ fuzzyLink: true, fuzzyEmail: false }); // www.example.org is a link; a bare address is not
md.validateLink = (/** @type {string} */ url) => /^(https?:\/\/|mailto:)/i.test(url.trim());

const ALLOWED = new Set(['P', 'BR', 'STRONG', 'EM', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'A']);

/**
 * The text rendered, as nodes to append.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  const template = document.createElement('template');
  template.innerHTML = md.render(text);
  const content = template.content;
  for (const node of [...content.querySelectorAll('*')]) {
    if (!ALLOWED.has(node.tagName)) {
      node.replaceWith(document.createTextNode(node.textContent ?? ''));
      continue;
    }
    for (const attr of [...node.attributes]) {
      const keep = node.tagName === 'A' ? attr.name === 'href' : node.tagName === 'OL' && attr.name === 'start';
      if (!keep) node.removeAttribute(attr.name);
    }
    if (node instanceof HTMLAnchorElement) {
      if (!/^(https?:|mailto:)$/i.test(node.protocol)) {
        node.replaceWith(document.createTextNode(node.textContent ?? ''));
        continue;
      }
      node.target = '_blank';
      node.rel = 'noopener noreferrer nofollow';
    }
  }
  // the line breaks markdown-it writes between blocks are not part of the text
  for (const node of [...content.childNodes]) {
    if (node.nodeType === Node.TEXT_NODE && (node.textContent ?? '').trim() === '') node.remove();
  }
  return content;
}
