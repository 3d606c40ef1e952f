import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { StationContext } from './store/hooks';
import { createStationStore } from './store/station-store';
import { stationBridge } from './transport/bridge';
import './styles.css';

const store = createStationStore(stationBridge());
document.title = 'Provisioning station';
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StationContext.Provider value={store}>
      <App store={store} />
    </StationContext.Provider>
  </StrictMode>,
);
