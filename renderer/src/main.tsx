import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { connect } from './connection'
import { Controller } from './state/controller'
import { ControllerProvider } from './state/context'
import './styles.css'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')

// One connection and one controller for the page's lifetime, outside React so StrictMode's
// double-mounting cannot open a second socket.
const controller = new Controller(connect())
controller.start()

createRoot(root).render(
  <StrictMode>
    <ControllerProvider controller={controller}>
      <App />
    </ControllerProvider>
  </StrictMode>,
)
