// The full emoji picker for reactions: emoji-picker-element (a maintained web component), loaded
// the first time it is opened, with its emoji data served by this server (no other origin is
// allowed by the page's Content-Security-Policy, and a client may be offline from the internet).

const DATA_URL = new URL('../vendor/emoji-picker/data.json', import.meta.url).href;

/** @type {Promise<HTMLElement> | null} */
let loading = null;
/** What the open picker's choice goes to (one at a time). @type {((emoji: string) => void) | null} */
let onChoice = null;

/** The picker element, created once. */
function picker() {
  loading ??= import('../vendor/emoji-picker/picker.js').then(({ default: Picker }) => {
    const element = new Picker({ dataSource: DATA_URL });
    // its <style> element is refused by the CSP (styles from this origin only): the same rules
    // go in as a constructed style sheet, which the CSP does not govern
    const root = element.shadowRoot;
    const style = root?.querySelector('style');
    if (root && style) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(style.textContent ?? '');
      root.adoptedStyleSheets = [sheet];
      style.remove();
    }
    element.addEventListener('emoji-click', (e) => {
      const emoji = e.detail.unicode;
      const choose = onChoice;
      onChoice = null;
      element.closest('dialog')?.close();
      if (emoji && choose) choose(emoji);
    });
    return /** @type {HTMLElement} */ (element);
  });
  return loading;
}

/**
 * Open the picker in `dialog` (a modal: Escape or its Close button closes it); `onPick` gets the
 * emoji chosen, once.
 * @param {HTMLDialogElement} dialog @param {HTMLElement} slot @param {(emoji: string) => void} onPick
 */
export async function pickEmoji(dialog, slot, onPick) {
  const element = await picker();
  if (element.parentElement !== slot) slot.replaceChildren(element);
  element.classList.toggle('dark', matchMedia('(prefers-color-scheme: dark)').matches);
  element.classList.toggle('light', !matchMedia('(prefers-color-scheme: dark)').matches);
  // the last picker asked for wins (two clicks while it loads open it once, for the second)
  onChoice = onPick;
  dialog.addEventListener(
    'close',
    () => {
      if (onChoice === onPick) onChoice = null;
    },
    { once: true },
  );
  if (!dialog.open) dialog.showModal();
  // the picker's own search field takes the focus, so typing finds an emoji at once
  requestAnimationFrame(() => /** @type {HTMLElement | null} */ (element.shadowRoot?.querySelector('input'))?.focus());
}
