/**
 * A tiny, strict XML reader for the JUnit tests: elements, attributes, text, the five predefined
 * entities and numeric character references. Throws on anything not well-formed (mismatched or
 * unclosed tags, a raw `<` or `&` in text, duplicate attributes, unquoted values).
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, where: string): string {
  if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(raw)) throw new Error(`raw < or & in ${where}: ${raw.slice(0, 60)}`);
  return raw.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]);
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const rest = () => xml.slice(i);
  const skipProlog = () => {
    const m = /^\s*<\?xml[^?]*\?>\s*/.exec(rest());
    if (m) i += m[0].length;
  };
  function element(): XmlElement {
    const open = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"]*")*)\s*(\/?)>/.exec(rest());
    if (!open) throw new Error(`expected an element at ${i}: ${rest().slice(0, 40)}`);
    i += open[0].length;
    const attrs: Record<string, string> = {};
    for (const a of open[2].matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]] = decode(a[2], `attribute ${a[1]}`);
    }
    const el: XmlElement = { name: open[1], attrs, children: [], text: '' };
    if (open[3] === '/') return el;
    for (;;) {
      const t = /^[^<]*/.exec(rest())![0];
      el.text += decode(t, `<${el.name}>`);
      i += t.length;
      if (rest().startsWith(`</${el.name}>`)) { i += el.name.length + 3; return el; }
      if (rest().startsWith('</')) throw new Error(`mismatched close tag at ${i}: ${rest().slice(0, 30)} (open: ${el.name})`);
      if (i >= xml.length) throw new Error(`unclosed <${el.name}>`);
      el.children.push(element());
    }
  }
  skipProlog();
  const root = element();
  if (rest().trim() !== '') throw new Error(`content after the root element: ${rest().slice(0, 40)}`);
  return root;
}

/** Every descendant element with this name, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}
