// Keyboard shortcuts for the watch officer, listed in the help overlay that
// `?` opens (index.html, #help). They never fire while typing in a field
// (input, textarea, select, contenteditable) or with Ctrl/Alt/Meta held, so
// typing "a" in the search box acknowledges nothing.

export const KEYS = [
  ['j', 'next alert', 'next'],
  ['k', 'previous alert', 'prev'],
  ['a', 'acknowledge the selected alert (all of a collapsed row)', 'ack'],
  ['c', 'centre the map on the selection (alert, vessel or contact)', 'centre'],
  ['m', 'mute / unmute the critical-alert alarm', 'mute'],
  ['/', 'search vessels', 'search'],
  ['?', 'this help', 'help'],
  ['Esc', 'close this help, cancel a map tool', null],
];

export function typing(target) {
  if (!target || target === globalThis.document?.body) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable === true;
}

/** Listen for the shortcuts: `actions` maps each action name in KEYS to a function. */
export function installKeys({ help, actions }) {
  help.querySelector('tbody').innerHTML = KEYS.map(([k, what]) => `<tr><td><kbd>${k}</kbd></td><td>${what}</td></tr>`).join('');
  const toggleHelp = (show = help.hidden) => {
    help.hidden = !show;
    if (show) help.querySelector('button.close')?.focus();
  };
  help.querySelector('button.close').onclick = () => toggleHelp(false);
  help.addEventListener('click', (e) => e.target === help && toggleHelp(false));
  addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.defaultPrevented) return;
    if (e.key === 'Escape' && !help.hidden) {
      toggleHelp(false);
      return;
    }
    if (typing(e.target)) return;
    const entry = KEYS.find(([k]) => k === e.key);
    if (!entry || !entry[2]) return;
    e.preventDefault();
    if (entry[2] === 'help') toggleHelp();
    else if (help.hidden) actions[entry[2]]?.();
  });
  return { toggleHelp };
}
