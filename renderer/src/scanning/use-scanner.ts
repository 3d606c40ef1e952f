/**
 * Captures keyboard-wedge scans wherever focus is (except in PIN fields, marked data-no-scan) and sends them to
 * slot.scan, bound to the slot clicked before when there is one; while a screen takes scans itself (the review
 * screen's search) they go there instead. Characters a scan typed into a focused text field are taken out again,
 * so a scan never lands in a form.
 */
import { useEffect } from 'react';
import type { StationStore } from '../store/station-store';
import { bindSlot, notify, uiStore } from '../store/ui-store';
import { WedgeDetector } from './wedge';

type Editable = HTMLInputElement | HTMLTextAreaElement;

function editable(target: EventTarget | null): Editable | null {
  if (target instanceof HTMLTextAreaElement) return target;
  if (target instanceof HTMLInputElement && ['text', 'search', 'number', ''].includes(target.type))
    return target;
  return null;
}

export function useScanner(store: StationStore): void {
  useEffect(() => {
    const detector = new WedgeDetector();
    let field: { element: Editable; value: string } | null = null;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest('[data-no-scan]')) {
        detector.reset();
        return;
      }
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      const result = detector.key(event.key, event.timeStamp);
      if (result.kind === 'char' && result.burstStart) {
        const element = editable(event.target);
        field = element ? { element, value: element.value } : null;
      }
      if (result.kind !== 'scan') return;
      event.preventDefault();
      event.stopPropagation();
      if (field) {
        // The scanner's characters went into the field: put the field back as it was before the burst.
        const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(field.element), 'value')?.set;
        setter?.call(field.element, field.value);
        field.element.dispatchEvent(new Event('input', { bubbles: true }));
        field = null;
      }
      const handler = uiStore.getState().scanHandler;
      if (handler) {
        handler(result.text);
        return;
      }
      const slot = uiStore.getState().boundSlot;
      bindSlot(null);
      void store
        .getState()
        .execute('slot.scan', { text: result.text, ...(slot !== null && { slot }) })
        .then((answer) => {
          if (!answer.ok) notify(answer.message);
        });
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [store]);
}
