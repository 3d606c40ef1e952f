/** React's view of the two stores. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StationState, StationStore } from './station-store';
import { reviewStore, type ReviewState } from './review-store';
import { uiStore, type UiState } from './ui-store';

export const StationContext = createContext<StationStore | null>(null);

export function useStation<T>(select: (state: StationState) => T): T {
  const store = useContext(StationContext);
  if (!store) throw new Error('useStation outside <StationContext>');
  return useStore(store, select);
}

export function useUi<T>(select: (state: UiState) => T): T {
  return useStore(uiStore, select);
}

export function useReview<T>(select: (state: ReviewState) => T): T {
  return useStore(reviewStore, select);
}
