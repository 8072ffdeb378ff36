// Keyed list updates: a message whose content did not change keeps its DOM node, a changed one is
// replaced where it stands (an edit in place), new ones are inserted in order, gone ones removed.

const signatures = new WeakMap();

/** items: [{key, sig, render() -> Node}], in display order. */
export function syncList(container, items) {
  const existing = new Map();
  for (const child of [...container.children]) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
    else child.remove();
  }
  items.forEach((item, index) => {
    let node = existing.get(item.key);
    if (!node || signatures.get(node) !== item.sig) {
      const fresh = item.render();
      fresh.dataset.key = item.key;
      signatures.set(fresh, item.sig);
      if (node) node.replaceWith(fresh);
      node = fresh;
    }
    existing.delete(item.key);
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  for (const node of existing.values()) node.remove();
}
