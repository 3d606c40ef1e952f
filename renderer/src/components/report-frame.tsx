/**
 * The station's batch report (one self-contained HTML page, charts as inline SVG) shown as it will print, in a
 * sandboxed frame: no script runs in it (no `allow-scripts`, and the page's own script-src applies), no form, no
 * popup, no navigation of this page.
 *
 * A frame written with `srcdoc` inherits this page's Content-Security-Policy, whose `style-src 'self'` refuses the
 * report's inline `<style>` and `style="..."` (the browser would log each as an error and show the report
 * unstyled). So the styles are taken out of the markup and applied through the CSSOM, which that policy allows:
 * the report's stylesheet as a constructed sheet, each element's own style as `element.style`. That needs the
 * frame's document reachable from here (`allow-same-origin`); with scripts off in the frame it stays inert.
 */
import { useEffect, useMemo, useRef } from 'react';

const STYLE_ELEMENT = /<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi;
// Only inside a tag can ` style="` appear: the report escapes every quote in its text.
const STYLE_ATTRIBUTE = /(<[^>]*?\s)style=(["'])(.*?)\2/g;

export interface SplitReport {
  markup: string;
  css: string;
}

export function splitReportStyles(html: string): SplitReport {
  const sheets: string[] = [];
  let markup = html.replace(STYLE_ELEMENT, (_all, css: string) => {
    sheets.push(css.replace(/<!\[CDATA\[|\]\]>/g, ''));
    return '';
  });
  // Repeated until no tag keeps one (a tag's second style attribute is not matched by the same pass).
  for (let i = 0; i < 3 && /\sstyle=["']/.test(markup); i++) {
    markup = markup.replace(STYLE_ATTRIBUTE, '$1data-report-style=$2$3$2');
  }
  return { markup, css: sheets.join('\n') };
}

/** The report at `zoom` times its print size (A4 text is small on a screen across a desk). */
export function ReportFrame({ html, title, zoom = 1 }: { html: string; title: string; zoom?: number }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const zoomSheet = useRef<CSSStyleSheet | null>(null);
  const report = useMemo(() => splitReportStyles(html), [html]);
  const zoomRule = `html { zoom: ${zoom}; }`;

  const applyStyles = () => {
    const doc = frame.current?.contentDocument;
    const view = frame.current?.contentWindow as (Window & typeof globalThis) | null | undefined;
    if (!doc || !view) return;
    const sheet = new view.CSSStyleSheet();
    sheet.replaceSync(report.css);
    zoomSheet.current = new view.CSSStyleSheet();
    zoomSheet.current.replaceSync(zoomRule);
    doc.adoptedStyleSheets = [sheet, zoomSheet.current];
    for (const element of doc.querySelectorAll<HTMLElement | SVGElement>('[data-report-style]')) {
      element.style.cssText = element.getAttribute('data-report-style') ?? '';
    }
  };

  useEffect(() => {
    zoomSheet.current?.replaceSync(zoomRule);
  }, [zoomRule]);

  return (
    <iframe
      ref={frame}
      className="report-frame"
      title={title}
      sandbox="allow-same-origin"
      srcDoc={report.markup}
      onLoad={applyStyles}
    />
  );
}
